using System.Runtime.CompilerServices;
using FluentAssertions;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>
/// The guarded replacement re-encryption relies on (<see cref="ISessionReplacer"/> with a
/// <see cref="ReplacementExpectation"/>), through the composed pipeline on every store: it swaps the session in when the
/// stored one is still as read, and otherwise throws <see cref="ConcurrencyConflictException"/>, leaves the stored
/// session exactly as it is and leaves nothing it staged behind.
/// </summary>
public abstract class GuardedReplacementTests : ReencryptionStoreTestBase
{
    [Fact]
    public async Task ReplaceSession_StoredSessionAsExpected_SwapsTheNewOneIn()
    {
        var store = Open(NoEncryption);
        var (read, messages) = await SeedAsync(store);

        await Replacer(store).ReplaceSessionAsync(read with { Title = "new" }, Replaced(messages, Ct), ReplacementExpectation.Of(read), Ct);

        var after = (await store.GetSessionAsync("s-1", Ct))!;
        after.Should().BeEquivalentTo(read with { Title = "new" });
        (await StoredMessages.ReadAllAsync(store, "s-1", Ct)).Select(m => m.Content).Should().Equal("new m-1", "new m-2", "new m-3");
        await NothingStagedAsync();
    }

    [Theory]
    [InlineData("append")]
    [InlineData("update")]
    [InlineData("trim")]
    [InlineData("append-and-trim")]
    public async Task ReplaceSession_StoredSessionChangedSinceRead_ThrowsConflictAndLeavesItAsItIs(string change)
    {
        var store = Open(NoEncryption);
        var (read, messages) = await SeedAsync(store);
        switch (change)
        {
            case "append":
                await store.AddMessageAsync(Message("s-1", "m-4"), Ct);
                break;
            case "update":
                await store.UpdateSessionAsync(read with { Title = "updated" }, Ct);
                break;
            case "trim":
                await store.TrimMessagesAsync("s-1", 2, Ct);
                break;
            default:
                // The count as read again: only the last sequence tells.
                await store.AddMessageAsync(Message("s-1", "m-4"), Ct);
                await store.TrimMessagesAsync("s-1", 3, Ct);
                break;
        }

        var changed = await SnapshotAsync(store, "s-1");

        var replace = () => Replacer(store).ReplaceSessionAsync(read with { Title = "new" }, Replaced(messages, Ct), ReplacementExpectation.Of(read), Ct);

        var conflict = (await replace.Should().ThrowAsync<ConcurrencyConflictException>()).Which;
        conflict.SessionId.Should().Be("s-1");
        (await SnapshotAsync(store, "s-1")).Should().Be(changed, "a replacement that conflicts writes nothing");
        await NothingStagedAsync();
    }

    [Fact]
    public async Task ReplaceSession_StoredSessionDeletedSinceRead_ThrowsConflictAndCreatesNothing()
    {
        var store = Open(NoEncryption);
        var (read, messages) = await SeedAsync(store);
        await store.DeleteSessionAsync("s-1", Ct);

        var replace = () => Replacer(store).ReplaceSessionAsync(read, Replaced(messages, Ct), ReplacementExpectation.Of(read), Ct);

        await replace.Should().ThrowAsync<ConcurrencyConflictException>();
        (await store.GetSessionAsync("s-1", Ct)).Should().BeNull("a guarded replacement never brings a deleted session back");
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(0);
        await NothingStagedAsync();
    }

    [Fact]
    public async Task ReplaceSession_StoredSessionDeletedAndCreatedAgain_ThrowsConflict()
    {
        var store = Open(NoEncryption);
        await store.CreateSessionAsync("s-1", ["Agent-1"], "first", cancellationToken: Ct);
        var read = (await store.GetSessionAsync("s-1", Ct))!;
        await store.DeleteSessionAsync("s-1", Ct);
        await store.CreateSessionAsync("s-1", ["Agent-2"], "second", cancellationToken: Ct);
        var second = await SnapshotAsync(store, "s-1");

        // Same version, last sequence and count (1, 0, 0): only the creation time tells the sessions apart.
        var replace = () => Replacer(store).ReplaceSessionAsync(read, Replaced([], Ct), ReplacementExpectation.Of(read), Ct);

        await replace.Should().ThrowAsync<ConcurrencyConflictException>();
        (await SnapshotAsync(store, "s-1")).Should().Be(second);
        await NothingStagedAsync();
    }

    [Fact]
    public async Task ReplaceSession_WithoutExpectation_ReplacesWhatIsStoredAsARestoreDoes()
    {
        var store = Open(NoEncryption);
        var (read, messages) = await SeedAsync(store);
        await store.AddMessageAsync(Message("s-1", "m-4"), Ct);

        await Replacer(store).ReplaceSessionAsync(read with { Title = "new" }, Replaced(messages, Ct), Ct);

        (await StoredMessages.ReadAllAsync(store, "s-1", Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2", "m-3");
    }

    /// <summary>Checks that no staged data of a replacement is left in the store's storage.</summary>
    protected virtual Task NothingStagedAsync() => Task.CompletedTask;

    /// <summary>The composed pipeline as a replacer: validation, telemetry and protection forward the expectation.</summary>
    private static ISessionReplacer Replacer(SessionPersistence store) => (ISessionReplacer)store.Store;

    private static async Task<(ChatSession Read, List<ChatMessage> Messages)> SeedAsync(SessionPersistence store)
    {
        await store.CreateSessionAsync("s-1", ["Agent-1"], "old", cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2"), Message("s-1", "m-3")], Ct);
        return ((await store.GetSessionAsync("s-1", Ct))!, await StoredMessages.ReadAllAsync(store, "s-1", Ct));
    }

    private static async IAsyncEnumerable<IReadOnlyList<ChatMessage>> Replaced(
        List<ChatMessage> messages, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        if (messages.Count > 0)
        {
            yield return [.. messages.Select(m => m with { Content = "new " + m.Id })];
        }
    }
}

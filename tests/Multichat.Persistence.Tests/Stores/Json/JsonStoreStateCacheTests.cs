using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>Runs alone: it counts the process's open file descriptors, which tests running beside it would change.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class JsonStateCacheGroup
{
    public const string Name = "Json state cache";
}

/// <summary>The bound on the per-session states (open files, id file mappings) a Json store instance keeps.</summary>
[Collection(JsonStateCacheGroup.Name)]
public sealed class JsonStoreStateCacheTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    /// <summary>Adds fresh sessions (each addition may evict) until <paramref name="condition"/> holds or 30 s passed.</summary>
    private static async Task UntilAsync(JsonStore store, Func<bool> condition)
    {
        // Eviction runs when a state is added and skips states whose lease is still held; the lease keeper releases
        // idle leases on a timer, which a loaded machine runs late. So add one state at a time and give the keeper
        // time between them, instead of piling up new (leased) states faster than it releases old ones.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (var i = 0; !condition() && DateTime.UtcNow < deadline; i++)
        {
            await CreateAndAppendAsync(store, $"later-{i}", "m-1");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task AppendMessages_ThreeTimesMoreSessionsThanTheCap_KeepsStatesAndOpenFilesBounded()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Counts open files through /proc/self/fd (Linux only).");
        await using var store = Open();
        await CreateAndAppendAsync(store, "warm-up", "m-1");
        var before = OpenFiles();

        for (var i = 0; i < 3 * JsonStore.MaxStates; i++)
        {
            await CreateAndAppendAsync(store, $"s-{i}", "m-1");
        }

        // The sessions just used may still hold their lock (an idle lease ends after ~2 ms, later on a loaded machine):
        // they cannot be evicted yet. Eviction runs when a state is added, so add sessions until the idle releases
        // caught up, within a deadline.
        await UntilAsync(store, () => store.StateCount <= JsonStore.MaxStates + 64);
        store.StateCount.Should().BeLessThanOrEqualTo(JsonStore.MaxStates + 64);
        (OpenFiles() - before).Should().BeLessThan(JsonStore.MaxStates + 512, "one messages file per session ever touched would be 3,072");
    }

    [Fact]
    public async Task AppendMessages_SessionEvicted_ContinuesItsSequencesAndRecognisesStoredIds()
    {
        await using var store = Open();
        await store.CreateSessionAsync(Session("old"), SessionLimit.None, Ct);
        await store.AppendMessagesAsync("old", [Message("old", "m-1"), Message("old", "m-2"), Message("old", "m-3")], MessageLimit.None, Ct);

        for (var i = 0; i < JsonStore.MaxStates + 100; i++)
        {
            await CreateAndAppendAsync(store, $"s-{i}", "m-1");
        }

        await UntilAsync(store, () => !store.Caches("old"));
        store.Caches("old").Should().BeFalse("the least recently used idle session is evicted first");

        var again = await store.AppendMessagesAsync("old", [Message("old", "m-2"), Message("old", "m-4")], MessageLimit.None, Ct);

        again.Select(m => (m.Id, m.Sequence)).Should().Equal(("m-2", 2L), ("m-4", 4L));
        var page = await store.GetMessagesAsync("old", new MessageQuery(), Ct);
        page.Messages.Select(m => m.Sequence).Should().Equal(1, 2, 3, 4);
        (await store.GetSessionAsync("old", Ct))!.MessageCount.Should().Be(4);
    }

    [Fact]
    public async Task AppendMessages_FourTasksOverMoreSessionsThanTheCap_StayGapless()
    {
        const int sessions = JsonStore.MaxStates + 500;
        const int tasks = 4;
        await using var store = Open();
        for (var i = 0; i < sessions; i++)
        {
            await store.CreateSessionAsync(Session($"s-{i}"), SessionLimit.None, Ct);
        }

        // Each task walks all sessions from its own starting point, so tasks meet on sessions while others get evicted.
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
        {
            for (var n = 0; n < sessions; n++)
            {
                var id = $"s-{(n + (t * sessions / tasks)) % sessions}";
                await store.AppendMessagesAsync(id, [Message(id, $"t{t}")], MessageLimit.None, Ct);
            }
        }, Ct)));

        for (var i = 0; i < sessions; i++)
        {
            var page = await store.GetMessagesAsync($"s-{i}", new MessageQuery(), Ct);
            page.Messages.Select(m => m.Sequence).Should().Equal(1, 2, 3, 4);
            page.Messages.Select(m => m.Id).Should().BeEquivalentTo("t0", "t1", "t2", "t3");
        }

        await UntilAsync(store, () => store.StateCount <= JsonStore.MaxStates + 64);
        store.StateCount.Should().BeLessThanOrEqualTo(JsonStore.MaxStates + 64);
    }

    [Fact]
    public async Task AppendMessages_SecondInstanceInterleavingOverMoreSessionsThanTheCap_StaysCorrect()
    {
        const int sessions = JsonStore.MaxStates + 200;
        await using var first = Open();
        await using var second = Open();
        for (var i = 0; i < sessions; i++)
        {
            await CreateAndAppendAsync(first, $"s-{i}", "a-1");
        }

        for (var i = 0; i < sessions; i++)
        {
            await second.AppendMessagesAsync($"s-{i}", [Message($"s-{i}", "b-1")], MessageLimit.None, Ct);
        }

        for (var i = 0; i < sessions; i++)
        {
            // a-1 again: stored by this instance, possibly before its state was evicted; b-1: stored by the other one.
            var stored = await first.AppendMessagesAsync($"s-{i}", [Message($"s-{i}", "a-1"), Message($"s-{i}", "b-1"), Message($"s-{i}", "a-2")], MessageLimit.None, Ct);
            stored.Select(m => m.Sequence).Should().Equal(1, 2, 3);
        }

        for (var i = 0; i < sessions; i += 97)
        {
            var page = await second.GetMessagesAsync($"s-{i}", new MessageQuery(), Ct);
            page.Messages.Select(m => m.Id).Should().Equal("a-1", "b-1", "a-2");
        }

        await UntilAsync(first, () => first.StateCount <= JsonStore.MaxStates + 64);
        await UntilAsync(second, () => second.StateCount <= JsonStore.MaxStates + 64);
        first.StateCount.Should().BeLessThanOrEqualTo(JsonStore.MaxStates + 64);
        second.StateCount.Should().BeLessThanOrEqualTo(JsonStore.MaxStates + 64);
    }

    private JsonStore Open() =>
        new(new JsonStoreOptions(_folder.Root, Durability.Normal, TimeSpan.FromSeconds(30), TimeProvider.System), NullLoggerFactory.Instance);

    private static async Task CreateAndAppendAsync(JsonStore store, string sessionId, string messageId)
    {
        await store.CreateSessionAsync(Session(sessionId), SessionLimit.None, Ct);
        await store.AppendMessagesAsync(sessionId, [Message(sessionId, messageId)], MessageLimit.None, Ct);
    }

    private static int OpenFiles() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    private static ChatSession Session(string sessionId) => new() { SessionId = sessionId, Participants = ["a"] };

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = "x" };
}

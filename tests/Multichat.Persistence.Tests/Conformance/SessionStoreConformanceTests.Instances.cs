using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task SecondInstance_ReadsWhatTheFirstWrote()
    {
        RequireSharedStorage();
        await NewSessionAsync("s-1", "Alice");
        await AppendAsync("s-1", 7);
        var second = await OpenAsync();

        (await second.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(7);
        (await second.GetMessagesAsync("s-1", 3, Ct)).Select(m => m.Sequence).Should().Equal(5, 6, 7);
        (await second.ListSessionsAsync(new SessionQuery { Participant = "Alice" }, Ct)).Sessions.Should().ContainSingle();
    }

    [Fact]
    public virtual async Task SecondInstance_AppendsContinueTheSameSequence()
    {
        RequireSharedStorage();
        await NewSessionAsync();
        await AppendAsync("s-1", 3, "first-");
        var second = await OpenAsync();

        var next = await second.AddMessageAsync(Message("s-1", "from-second"), Ct);
        var retried = await second.AddMessageAsync(Message("s-1", "first-1"), Ct);

        next.Sequence.Should().Be(4);
        retried.Sequence.Should().Be(1);
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().EndWith("from-second");
    }

    [Fact]
    public virtual async Task TwoInstances_AppendingConcurrently_StayGapless()
    {
        RequireSharedStorage();
        await NewSessionAsync();
        var second = await OpenAsync();

        async Task WriteAsync(SessionPersistence store, string prefix)
        {
            for (var i = 0; i < 60; i++)
            {
                await store.AddMessageAsync(Message("s-1", $"{prefix}{i}"), Ct);
            }
        }

        await Task.WhenAll(Task.Run(() => WriteAsync(Store, "a"), Ct), Task.Run(() => WriteAsync(second, "b"), Ct));

        var all = await ReadAllAsync(Store, "s-1");
        all.Should().HaveCount(120);
        ShouldBeGapless(all);
    }

    [Fact]
    public virtual async Task TwoInstances_CreatingOneSessionConcurrently_OnlyOneSucceeds()
    {
        RequireSharedStorage();
        var second = await OpenAsync();

        async Task<bool> TryCreateAsync(SessionPersistence store)
        {
            try
            {
                await store.CreateSessionAsync("race", ["a"], cancellationToken: Ct);
                return true;
            }
            catch (SessionAlreadyExistsException)
            {
                return false;
            }
        }

        var outcomes = await Task.WhenAll(Task.Run(() => TryCreateAsync(Store)), Task.Run(() => TryCreateAsync(second)));

        outcomes.Count(won => won).Should().Be(1);
    }

    [Fact]
    public virtual async Task ReopenedInstance_SeesEverything()
    {
        RequireSharedStorage();
        var created = await NewSessionAsync("s-1", "Alice", "Bob");
        await AppendAsync("s-1", 25);
        var updated = await Store.UpdateSessionAsync((await Store.GetSessionAsync("s-1", Ct))! with { Title = "kept" }, Ct);
        await Store.DisposeAsync();

        var reopened = await OpenAsync();

        (await reopened.GetSessionAsync("s-1", Ct)).Should().BeEquivalentTo(updated);
        var all = await ReadAllAsync(reopened, "s-1");
        all.Should().HaveCount(25);
        ShouldBeGapless(all);
        created.Version.Should().Be(1);
    }

    [Fact]
    public virtual async Task SecondInstance_SeesUpdateAndDeleteOfTheFirst()
    {
        RequireSharedStorage();
        var created = await NewSessionAsync();
        var second = await OpenAsync();
        await second.GetSessionAsync("s-1", Ct);

        await Store.UpdateSessionAsync(created with { Title = "changed" }, Ct);
        var stale = () => second.UpdateSessionAsync(created with { Title = "stale" }, Ct);
        await stale.Should().ThrowAsync<ConcurrencyConflictException>();

        await Store.DeleteSessionAsync("s-1", Ct);
        (await second.GetSessionAsync("s-1", Ct)).Should().BeNull();
    }
}

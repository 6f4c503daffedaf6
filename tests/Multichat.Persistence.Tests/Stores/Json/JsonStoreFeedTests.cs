using System.Diagnostics;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// The Json store's own part of the change feed: hints from the file watcher on a watched session's folder, so writes
/// of another instance arrive without waiting for the poll (the watcher's clock is a fake that never moves: its poll
/// never fires), and a watched folder deleted by hand ends the feed.
/// </summary>
public sealed class JsonStoreFeedTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Watch_AppendsOfAnotherInstance_ArriveThroughTheFolderWatcherWithoutAPoll()
    {
        const int Appends = 40;
        await using var watcher = SessionPersistence.Create(WithFrozenClock());
        await watcher.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await using var writer = SessionPersistence.Create(_folder.Options());
        await using var feed = watcher.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);

        // One append at a time, each awaited at the feed: the delay of each is the watcher's alone.
        var delays = new List<double>(Appends);
        for (var i = 1; i <= Appends; i++)
        {
            var next = feed.MoveNextAsync().AsTask();
            await writer.AddMessageAsync(Message("s-1", $"m-{i}"), Ct);
            var acknowledged = Stopwatch.GetTimestamp();
            (await next.WaitAsync(Patience, Ct)).Should().BeTrue();
            delays.Add(Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds);
            feed.Current.Sequence.Should().Be(i);
        }

        delays.Sort();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"another instance's append to the watcher: median {delays[Appends / 2]:0.0} ms, 90th percentile {delays[Appends * 9 / 10]:0.0} ms, max {delays[^1]:0.0} ms");
    }

    [Fact]
    public async Task Watch_AnotherInstanceDeletesAndRecreatesTheSession_EndsTheFeedWithoutAPoll()
    {
        await using var watcher = SessionPersistence.Create(WithFrozenClock());
        await watcher.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await using var other = SessionPersistence.Create(_folder.Options());
        await using var feed = watcher.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var next = feed.MoveNextAsync().AsTask();

        await other.DeleteSessionAsync("s-1", Ct);
        await other.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);

        var ended = async () => await next.WaitAsync(Patience, Ct);
        (await ended.Should().ThrowAsync<SessionPersistenceException>()).Which.Should().Match<SessionPersistenceException>(
            e => e is SessionNotFoundException || (e is MessageFeedGapException && ((MessageFeedGapException)e).Reason == FeedGapReason.SessionReplaced));
    }

    [Fact]
    public async Task Watch_SessionFolderDeletedByHand_EndsTheFeed_AndTheSessionCanBeWatchedAgain()
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("s-1", "m-1"), Ct);
        await using (var feed = store.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct))
        {
            (await feed.MoveNextAsync().AsTask().WaitAsync(Patience, Ct)).Should().BeTrue();
            var next = feed.MoveNextAsync().AsTask();

            // Outside the store's locks, as an operator would: the watched folder itself goes away.
            Directory.Delete(_folder.FolderOf("s-1"), recursive: true);

            var ended = async () => await next.WaitAsync(Patience, Ct);
            await ended.Should().ThrowAsync<SessionNotFoundException>();
        }

        // A new folder gets a new watch: its messages arrive again.
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await using var again = store.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var first = again.MoveNextAsync().AsTask();
        await store.AddMessageAsync(Message("s-1", "m-again"), Ct);
        (await first.WaitAsync(Patience, Ct)).Should().BeTrue();
        again.Current.Id.Should().Be("m-again");
    }

    /// <summary>Options whose clock never moves: the feed's poll (a timer on that clock) never fires, so only a hint wakes it.</summary>
    private SessionPersistenceOptions WithFrozenClock()
    {
        var options = _folder.Options();
        options.TimeProvider = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        return options;
    }

    private static ChatMessage Message(string sessionId, string id, string sender = "Agent-1") =>
        new() { Id = id, SessionId = sessionId, Sender = sender, Content = $"content of {id}" };
}

using System.Diagnostics;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// The Sqlite store's feed hints for other connections' commits (<see cref="SqliteChangePoller"/>): it runs only while
/// a session is watched, one per store instance, stops with the store, delivers another instance's appends without the
/// feed's fallback poll (the options' clock is a frozen fake here), and wakes only the sessions whose head moved.
/// </summary>
public sealed class SqliteChangePollerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _folder = SqliteTestFolder.Create();

    // Never advanced: a watcher's fallback poll never fires, so whatever arrives came through a hint.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Watch_FirstWatcherStartsOnePoll_LastOneLeavingStopsIt()
    {
        await using var persistence = Open();
        await persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await persistence.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct);
        var poller = StoreOf(persistence).ChangePoller;
        poller.IsPolling.Should().BeFalse("nothing is watched yet");

        using var first = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var second = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watchFirst = Drain(persistence.WatchMessagesAsync("s-1", cancellationToken: first.Token));
        poller.IsPolling.Should().BeTrue();
        var loop = poller.Loop;
        var watchSecond = Drain(persistence.WatchMessagesAsync("s-2", cancellationToken: second.Token));
        poller.Loop.Should().BeSameAs(loop, "one poll serves every watched session of the instance");

        await first.CancelAsync();
        await FluentActions.Awaiting(() => watchFirst.WaitAsync(Patience, Ct)).Should().ThrowAsync<OperationCanceledException>();
        poller.IsPolling.Should().BeTrue("s-2 is still watched");
        loop.IsCompleted.Should().BeFalse();

        await second.CancelAsync();
        await FluentActions.Awaiting(() => watchSecond.WaitAsync(Patience, Ct)).Should().ThrowAsync<OperationCanceledException>();
        poller.IsPolling.Should().BeFalse();
        await loop.WaitAsync(Patience, Ct);
    }

    [Fact]
    public async Task DisposeAsync_WhileWatched_StopsThePollAndEndsTheWatch()
    {
        var persistence = Open();
        await persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        var poller = StoreOf(persistence).ChangePoller;
        var watch = Drain(persistence.WatchMessagesAsync("s-1", cancellationToken: Ct));
        var loop = poller.Loop;

        await persistence.DisposeAsync();

        loop.IsCompleted.Should().BeTrue("dispose awaits the poll, which closed its connection");
        poller.IsPolling.Should().BeFalse();
        await FluentActions.Awaiting(() => watch.WaitAsync(Patience, Ct)).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task Watch_AfterTheLastWatcherLeft_StartsThePollAgain()
    {
        await using var persistence = Open();
        await using var writer = Open();
        await persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        var poller = StoreOf(persistence).ChangePoller;
        using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var watch = Drain(persistence.WatchMessagesAsync("s-1", cancellationToken: cancel.Token));
            await cancel.CancelAsync();
            await FluentActions.Awaiting(() => watch.WaitAsync(Patience, Ct)).Should().ThrowAsync<OperationCanceledException>();
        }

        await using var feed = persistence.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var next = feed.MoveNextAsync().AsTask();
        poller.IsPolling.Should().BeTrue();
        await writer.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "a", Content = "again" }, Ct);

        (await next.WaitAsync(Patience, Ct)).Should().BeTrue();
        feed.Current.Id.Should().Be("m-1");
    }

    [Fact]
    public async Task Poll_AnotherInstanceAppends_WakesOnlyTheSessionWhoseHeadMoved()
    {
        await using var persistence = Open();
        await using var writer = Open();
        await writer.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await writer.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct);
        var signals = StoreOf(persistence);
        using var one = signals.Listen("s-1");
        using var two = signals.Listen("s-2");

        // The first look at a session always wakes it: nothing was recorded to compare its head with.
        await one.WaitAsync(Timeout.InfiniteTimeSpan, _clock, Ct).WaitAsync(Patience, Ct);
        await two.WaitAsync(Timeout.InfiniteTimeSpan, _clock, Ct).WaitAsync(Patience, Ct);
        var twoWoken = two.WaitAsync(Timeout.InfiniteTimeSpan, _clock, Ct);

        // Two rounds, one after the other (one poll loop): once the second woke s-1, the first has looked at s-2 too.
        for (var i = 1; i <= 2; i++)
        {
            await writer.AddMessageAsync(new ChatMessage { Id = $"m-{i}", SessionId = "s-1", Sender = "a", Content = "x" }, Ct);
            await one.WaitAsync(Timeout.InfiniteTimeSpan, _clock, Ct).WaitAsync(Patience, Ct);
        }

        twoWoken.IsCompleted.Should().BeFalse("s-2's head did not move");
        await writer.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-2", Sender = "a", Content = "x" }, Ct);
        await twoWoken.WaitAsync(Patience, Ct);
    }

    [Fact]
    public async Task Poll_AnotherInstanceDeletesTheSession_EndsTheWatch()
    {
        await using var persistence = Open();
        await using var writer = Open();
        await persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        var watch = Drain(persistence.WatchMessagesAsync("s-1", cancellationToken: Ct));

        await writer.DeleteSessionAsync("s-1", Ct);

        await FluentActions.Awaiting(() => watch.WaitAsync(Patience, Ct)).Should().ThrowAsync<SessionNotFoundException>();
    }

    [Fact]
    public async Task Watch_AppendsOfAnotherInstance_ArriveWithinMillisecondsWithoutTheFallbackPoll()
    {
        const int Appends = 200;
        await using var persistence = Open();
        await using var writer = Open();
        await persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await using var feed = persistence.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var delays = new List<double>(Appends);
        for (var i = 1; i <= Appends; i++)
        {
            var next = feed.MoveNextAsync().AsTask();
            await writer.AddMessageAsync(new ChatMessage { Id = $"m-{i}", SessionId = "s-1", Sender = "a", Content = "x" }, Ct);
            var acknowledged = Stopwatch.GetTimestamp();
            (await next.WaitAsync(Patience, Ct)).Should().BeTrue();
            delays.Add(Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds);
            feed.Current.Sequence.Should().Be(i);
        }

        delays.Sort();
        var (median, p90, max) = (delays[Appends / 2], delays[Appends * 9 / 10], delays[^1]);
        output.WriteLine($"acknowledged append to watcher, {Appends} appends: median {median:F1} ms, p90 {p90:F1} ms, max {max:F1} ms (poll every {SqliteChangePoller.Interval.TotalMilliseconds} ms)");

        // A bound for a loaded machine, far below the 1 s fallback poll (which the frozen clock never fires anyway).
        median.Should().BeLessThan(100);
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private static SqliteStore StoreOf(SessionPersistence persistence) => (SqliteStore)SessionStorePipeline.Unwrap(persistence.Store);

    /// <summary>Reads a feed to its end (or its failure), started now: its first step listens before this returns.</summary>
    private static Task Drain(IAsyncEnumerable<ChatMessage> feed)
    {
        var enumerator = feed.GetAsyncEnumerator();
        var first = enumerator.MoveNextAsync().AsTask();
        return DrainAsync(enumerator, first);

        static async Task DrainAsync(IAsyncEnumerator<ChatMessage> enumerator, Task<bool> first)
        {
            await using (enumerator)
            {
                if (await first)
                {
                    while (await enumerator.MoveNextAsync())
                    {
                    }
                }
            }
        }
    }

    private SessionPersistence Open() =>
        SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = _folder, TimeProvider = _clock });
}

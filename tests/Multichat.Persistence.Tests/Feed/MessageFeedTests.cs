using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Feed;

namespace Multichat.Persistence.Tests.Feed;

/// <summary>
/// What the conformance suite cannot see of the feed: a watch releases its listener when it ends, hints are kept
/// while the watcher is busy, and without any hint the fallback poll (on the options' clock) still delivers.
/// </summary>
public sealed class MessageFeedTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EndedWatches_ReleaseTheirListeners()
    {
        var hub = new MessageSignalHub(TimeSpan.FromSeconds(5));
        await using var persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await persistence.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        var feed = new MessageFeed(persistence.Store, hub, heads: null, TimeProvider.System);

        using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var enumerator = feed.WatchAsync("s-1", 0, cancel.Token).GetAsyncEnumerator(cancel.Token);
            var next = enumerator.MoveNextAsync().AsTask();
            await WaitUntilAsync(() => hub.WatchedSessions == 1);
            await cancel.CancelAsync();
            var ended = () => next;
            await ended.Should().ThrowAsync<OperationCanceledException>();
            await enumerator.DisposeAsync();
        }

        hub.WatchedSessions.Should().Be(0, "a cancelled watch lets go of its listener");

        await persistence.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = "x" }, Ct);
        await foreach (var message in feed.WatchAsync("s-1", 0, Ct))
        {
            message.Id.Should().Be("m-1");
            break;
        }

        hub.WatchedSessions.Should().Be(0, "a watch the consumer left early lets go too");
    }

    [Fact]
    public async Task WithoutAnyHint_TheFallbackPoll_OnTheOptionsClock_Delivers()
    {
        var clock = new FakeTimeProvider();
        var silent = new MessageSignalHub(TimeSpan.FromSeconds(1));
        await using var persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await persistence.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        var feed = new MessageFeed(persistence.Store, silent, heads: null, clock);
        await using var enumerator = feed.WatchAsync("s-1", 0, Ct).GetAsyncEnumerator(Ct);
        var next = enumerator.MoveNextAsync().AsTask();
        await WaitUntilAsync(() => silent.WatchedSessions == 1);

        await persistence.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = "x" }, Ct);
        await Task.Yield();
        next.IsCompleted.Should().BeFalse("no hint arrives and the poll interval has not passed");

        clock.Advance(TimeSpan.FromSeconds(1));

        (await next.WaitAsync(TimeSpan.FromSeconds(30), Ct)).Should().BeTrue();
        enumerator.Current.Id.Should().Be("m-1");
    }

    [Fact]
    public async Task AHintSetWhileTheWatcherIsBusy_IsKept()
    {
        using var signal = new MessageSignal();

        signal.Set();
        signal.Set();

        await signal.WaitAsync(Timeout.InfiniteTimeSpan, TimeProvider.System, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var second = signal.WaitAsync(Timeout.InfiniteTimeSpan, TimeProvider.System, Ct);
        second.IsCompleted.Should().BeFalse("two hints before one wait are one wake-up");
        signal.Set();
        await second.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public async Task AHintSetAfterAWaitTimedOut_IsKeptForTheNextWait()
    {
        var clock = new FakeTimeProvider();
        using var signal = new MessageSignal();
        var first = signal.WaitAsync(TimeSpan.FromSeconds(1), clock, Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        await first.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // The watcher now reads the store; a message is stored meanwhile.
        signal.Set();

        var next = signal.WaitAsync(TimeSpan.FromSeconds(1), clock, Ct);
        next.IsCompleted.Should().BeTrue("the hint came after the timed-out wait and must wake the next one at once");
        await next;
    }

    [Fact]
    public async Task AListenerStartThatThrows_LeavesTheSessionStartableAgain()
    {
        var starts = 0;
        var hub = new MessageSignalHub(TimeSpan.FromSeconds(1), _ => ++starts == 1 ? throw new IOException("no such folder") : new Listener());

        var failed = () => hub.Listen("s-1");
        failed.Should().Throw<IOException>();
        using var signal = hub.Listen("s-1");

        starts.Should().Be(2, "the failed start did not leave the session marked as starting");
        await Task.CompletedTask;
    }

    private sealed class Listener : IDisposable
    {
        public void Dispose()
        {
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Yield();
            patience.Token.ThrowIfCancellationRequested();
        }
    }
}

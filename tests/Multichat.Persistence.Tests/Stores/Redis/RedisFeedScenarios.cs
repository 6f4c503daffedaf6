using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Redis;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The Redis store's feed hints and read-cursor key, on whichever deployment the fixture runs: a hint from another
/// multiplexer wakes a watcher without a poll (the watcher's clock never moves, so no poll ever fires); a lost
/// subscription wakes every watcher when it is restored; the cursor key goes with every end of a session's life. Run
/// by <see cref="RedisFeedTests"/> (single node) and <see cref="RedisClusterFeedTests"/>.
/// </summary>
internal static class RedisFeedScenarios
{
    /// <summary>A safety net for awaited wake-ups, not a timing assertion.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static SessionPersistence Open(RedisFixture redis, string prefix, TimeProvider? clock = null, Action<SessionPersistenceOptions>? configure = null)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Redis, ConnectionString = redis.ConnectionString, RedisKeyPrefix = prefix };
        if (clock is not null)
        {
            options.TimeProvider = clock;
        }

        configure?.Invoke(options);
        return SessionPersistence.Create(options);
    }

    public static RedisStore Raw(SessionPersistence persistence) => (RedisStore)SessionStorePipeline.Unwrap(persistence.Store);

    public static async Task AppendFromAnotherMultiplexer_ReachesTheWatcherByItsHintAsync(RedisFixture redis, string prefix)
    {
        await using var watcher = Open(redis, prefix, new FakeTimeProvider());
        await using var writer = Open(redis, prefix);
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await using var feed = watcher.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var received = new List<string>();
        var pending = NextAsync(feed, 3, received);

        // Subscribed (and the wake-up after it read the store): from here only a hint can wake the watcher.
        await Raw(watcher).Hints.Settled.WaitAsync(Patience, Ct);
        foreach (var id in new[] { "m-1", "m-2", "m-3" })
        {
            await writer.AddMessageAsync(Message(id), Ct);
        }

        await pending.WaitAsync(Patience, Ct);
        received.Should().Equal("m-1", "m-2", "m-3");
    }

    /// <summary>One append publishes its hint with <paramref name="expected"/> ("spublish" or "publish") and not the other.</summary>
    public static async Task Append_PublishesItsHintWithAsync(RedisFixture redis, string prefix, string expected)
    {
        await using var writer = Open(redis, prefix);
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        var before = await redis.CommandStatsAsync();

        await writer.AddMessageAsync(Message("m-1"), Ct);

        var after = await redis.CommandStatsAsync();
        var other = expected == "spublish" ? "publish" : "spublish";
        (after.GetValueOrDefault(expected) - before.GetValueOrDefault(expected)).Should().Be(1);
        after.GetValueOrDefault(other).Should().Be(before.GetValueOrDefault(other));
    }

    public static async Task SubscriptionConnectionKilled_WakesEveryWatcherWhenRestoredAsync(RedisFixture redis, string prefix)
    {
        var clock = new FakeTimeProvider();
        await using var watcher = Open(redis, prefix, clock);
        await watcher.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        var store = Raw(watcher);
        using var signal = store.Listen("s-1");
        await store.Hints.Settled.WaitAsync(Patience, Ct);
        await signal.WaitAsync(Timeout.InfiniteTimeSpan, clock, Ct).WaitAsync(Patience, Ct); // the wake-up after subscribing

        await KillSubscriptionConnectionsAsync(redis);

        // Nothing was written: only the reconnect can wake it, for whatever was published while the connection was down.
        await signal.WaitAsync(Timeout.InfiniteTimeSpan, clock, Ct).WaitAsync(Patience, Ct);
    }

    public static async Task AppendWhileTheSubscriptionIsDown_StillReachesTheWatcherAsync(RedisFixture redis, string prefix)
    {
        await using var watcher = Open(redis, prefix, new FakeTimeProvider());
        await using var writer = Open(redis, prefix);
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await using var feed = watcher.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var received = new List<string>();
        var pending = NextAsync(feed, 1, received);
        await Raw(watcher).Hints.Settled.WaitAsync(Patience, Ct);

        await KillSubscriptionConnectionsAsync(redis);
        await writer.AddMessageAsync(Message("m-1"), Ct);

        // Its hint may have found no subscriber: the reconnect's wake-up delivers it then (no poll: the clock stands still).
        await pending.WaitAsync(Patience, Ct);
        received.Should().Equal("m-1");
    }

    /// <summary>The cursor key of a session after <paramref name="end"/> ended its life: gone, and none in the next life.</summary>
    public static async Task CursorKey_GoesWithTheSessionAsync(RedisFixture redis, string prefix, Func<SessionPersistence, FakeTimeProvider, Task> end, Action<SessionPersistenceOptions>? configure = null)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = Open(redis, prefix, clock, configure);
        await store.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1"), Ct);
        await store.MarkReadAsync("s-1", "Agent-2", 1, Ct);
        var cursors = new RedisKeys(prefix).For("s-1").Cursors;
        var db = redis.Admin.GetDatabase();
        (await db.HashGetAsync(cursors, "Agent-2")).Should().Be((RedisValue)1);

        await end(store, clock);

        (await db.KeyExistsAsync(cursors)).Should().BeFalse("the read cursors belong to the life that ended");
        if (await store.GetSessionAsync("s-1", Ct) is null)
        {
            await store.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        }

        (await Raw(store).GetReadCursorsAsync("s-1", Ct)).Should().BeEmpty();
    }

    public static async Task CursorKey_AfterARestore_HoldsTheArchivesCursorsAsync(RedisFixture redis, string prefix)
    {
        await using var store = Open(redis, prefix);
        await store.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", [Message("m-1"), Message("m-2")], Ct);
        await store.MarkReadAsync("s-1", "Agent-2", 1, Ct);
        using var archive = new MemoryStream();
        await store.BackupAsync(archive, Ct);
        await store.MarkReadAsync("s-1", "Agent-2", 2, Ct);
        await store.MarkReadAsync("s-1", "Agent-3", 2, Ct);

        archive.Position = 0;
        await store.RestoreAsync(archive, RestoreMode.Replace, cancellationToken: Ct);

        var cursors = new RedisKeys(prefix).For("s-1").Cursors;
        (await redis.Admin.GetDatabase().HashGetAllAsync(cursors)).Should().BeEquivalentTo([new HashEntry("Agent-2", 1)],
            "the old life's cursor key went with it; the archive's cursors were marked again");
    }

    public static async Task MarkRead_CursorStoredAsAnotherType_IsReportedAsDamageAndChangesNothingAsync(RedisFixture redis, string prefix)
    {
        await using var store = Open(redis, prefix);
        await store.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1"), Ct);
        var cursors = new RedisKeys(prefix).For("s-1").Cursors;
        var db = redis.Admin.GetDatabase();
        await db.HashSetAsync(cursors, "Agent-2", "not a number");

        var mark = () => store.MarkReadAsync("s-1", "Agent-2", 1, Ct);

        await mark.Should().ThrowAsync<StoreCorruptedException>();
        (await db.HashGetAsync(cursors, "Agent-2")).Should().Be((RedisValue)"not a number");
    }

    private static async Task KillSubscriptionConnectionsAsync(RedisFixture redis)
    {
        foreach (var server in redis.Admin.GetServers().Where(s => !s.IsReplica))
        {
            await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        }
    }

    private static async Task NextAsync(IAsyncEnumerator<ChatMessage> feed, int count, List<string> received)
    {
        for (var i = 0; i < count; i++)
        {
            (await feed.MoveNextAsync()).Should().BeTrue();
            received.Add(feed.Current.Id);
        }
    }

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = "s-1", Sender = "Agent-1", Content = id };
}

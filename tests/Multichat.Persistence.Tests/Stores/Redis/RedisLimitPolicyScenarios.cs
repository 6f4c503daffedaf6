using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Stores.Redis;
using Multichat.Persistence.Tests.Infrastructure;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The limit policies against both deployments (a single node, where the check, the eviction and the create are one
/// script, and a cluster, where a create takes the count lease and evicts through the ordinary delete), each under
/// its own key prefix: the victims and their order (ticks within a millisecond, code-point order of ids on a tie),
/// several evictions for one create, index entries of vanished sessions and damaged records, independent connections
/// racing, and a refused append that leaves every key as it was.
/// </summary>
internal sealed class RedisLimitPolicyScenarios(RedisFixture redis, string prefix) : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly List<SessionPersistence> _opened = [];
    private readonly RedisKeys _keys = new(prefix);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IDatabase Db => redis.Admin.GetDatabase();

    public async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        await redis.DeleteKeysAsync(prefix);
    }

    public SessionPersistence Open(
        TimeProvider? clock = null, int? maxSessions = null, int? maxMessages = null, CapturingLoggerFactory? logs = null,
        MessageLimitPolicy messagePolicy = MessageLimitPolicy.Reject)
    {
        var store = SessionPersistence.Create(
            new SessionPersistenceOptions
            {
                StorageType = StorageType.Redis,
                ConnectionString = redis.ConnectionString,
                RedisKeyPrefix = prefix,
                TimeProvider = clock ?? TimeProvider.System,
                MaxSessions = maxSessions,
                SessionLimitPolicy = SessionLimitPolicy.EvictLeastRecentlyActive,
                MaxMessagesPerSession = maxMessages,
                MessageLimitPolicy = messagePolicy,
            },
            logs);
        _opened.Add(store);
        return store;
    }

    public static FakeTimeProvider NewClock() => new(Start) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };

    /// <summary>5 sessions, a limit of 3: one create evicts the three least recently active, oldest first, with their keys.</summary>
    public async Task LoweredLimitEvictsSeveralOldestFirstAsync()
    {
        var clock = NewClock();
        var unlimited = Open(clock);
        for (var i = 0; i < 5; i++)
        {
            await unlimited.CreateSessionAsync($"s-{i}", ["a"], cancellationToken: Ct);
            await unlimited.AddMessageAsync(Message($"s-{i}", "m-1"), Ct);
        }

        await unlimited.AddMessageAsync(Message("s-0", "m-2"), Ct);
        var logs = new CapturingLoggerFactory();
        var limited = Open(clock, maxSessions: 3, logs: logs);

        await limited.CreateSessionAsync("new", ["a"], cancellationToken: Ct);

        Evicted(logs).Should().Equal(["s-1", "s-2", "s-3"], "s-0 was active last of the old ones, so the three after it go, oldest first");
        (await StoredIdsAsync(limited)).Should().BeEquivalentTo(["s-0", "s-4", "new"]);
        (await limited.GetStatisticsAsync(Ct)).Should().Match<StoreStatistics>(s => s.SessionCount == 3 && s.MessageCount == 3);
        foreach (var gone in new[] { "s-1", "s-2", "s-3" })
        {
            await RedisStoreChecks.CheckSessionAsync(limited, Db, _keys, gone, "evicted");
            (await Db.KeyExistsAsync(_keys.For(gone).Meta)).Should().BeFalse();
            (await Db.SortedSetScoreAsync(_keys.Participant(RedisKeys.BucketOf(gone), "a"), gone)).Should().BeNull("an evicted session leaves its participant's index");
        }

        await RedisStoreChecks.CheckCountBoundsAsync(Db, _keys, "after evicting three");
    }

    /// <summary>
    /// Within one millisecond of the index the ticks decide, and on equal ticks the lowest id in code-point order goes
    /// first (U+FF5E before U+1F600, which ordinal UTF-16 order would put the other way round).
    /// </summary>
    public async Task TiesAreBrokenByTicksThenCodePointOrderAsync()
    {
        var logs = new CapturingLoggerFactory();
        var limited = Open(NewClock(), maxSessions: 4, logs: logs);
        var at = Start.AddDays(-1);
        await ImportAsync(limited, "y", at);
        await ImportAsync(limited, "x", at.AddTicks(1));
        await ImportAsync(limited, "\uFF5E", at.AddMilliseconds(1));
        await ImportAsync(limited, "\U0001F600", at.AddMilliseconds(1));

        for (var i = 0; i < 4; i++)
        {
            await limited.CreateSessionAsync($"n-{i}", ["a"], cancellationToken: Ct);
        }

        Evicted(logs).Should().Equal(["y", "x", "\uFF5E", "\U0001F600"]);
        (await StoredIdsAsync(limited)).Should().BeEquivalentTo(["n-0", "n-1", "n-2", "n-3"]);
    }

    /// <summary>
    /// An index entry whose record was removed by hand is dropped and makes room without an eviction being reported; a
    /// damaged record (no participants) is passed over, and the next oldest goes.
    /// </summary>
    public async Task VanishedAndDamagedSessionsAreNotEvictedAsync()
    {
        var clock = NewClock();
        var unlimited = Open(clock);
        for (var i = 0; i < 4; i++)
        {
            await unlimited.CreateSessionAsync($"s-{i}", ["a"], cancellationToken: Ct);
        }

        await Db.KeyDeleteAsync(_keys.For("s-0").Meta);
        await Db.HashDeleteAsync(_keys.For("s-1").Meta, "p");
        var logs = new CapturingLoggerFactory();
        var limited = Open(clock, maxSessions: 4, logs: logs);

        await limited.CreateSessionAsync("new-0", ["a"], cancellationToken: Ct);

        Evicted(logs).Should().BeEmpty("the entry of s-0 pointed at no session; dropping it made the room");
        (await Db.SortedSetScoreAsync(_keys.For("s-0").Recent, "s-0")).Should().BeNull();

        await limited.CreateSessionAsync("new-1", ["a"], cancellationToken: Ct);

        Evicted(logs).Should().Equal(["s-2"], "s-1 is damaged, so it is left for a restore or a delete");
        (await Db.KeyExistsAsync(_keys.For("s-1").Meta)).Should().BeTrue();
        (await limited.GetSessionAsync("s-3", Ct)).Should().NotBeNull();
        (await limited.GetSessionAsync("new-0", Ct)).Should().NotBeNull();
        (await limited.GetSessionAsync("new-1", Ct)).Should().NotBeNull();
    }

    /// <summary>
    /// 4 instances (4 connections, as 4 machines would have) × 15 creates under a limit of 10: every create succeeds,
    /// the store ends at the limit, and every session created is either stored or reported evicted, exactly once.
    /// </summary>
    public async Task IndependentConnectionsRaceAsync()
    {
        const int Max = 10;
        var logs = new CapturingLoggerFactory();
        var instances = Enumerable.Range(0, 4).Select(_ => Open(maxSessions: Max, logs: logs)).ToArray();
        foreach (var instance in instances)
        {
            await instance.GetStatisticsAsync(Ct); // connected before the race starts
        }

        var created = Enumerable.Range(0, 60).Select(i => $"race-{i}").ToArray();
        await Task.WhenAll(created.Select((id, i) => instances[i % 4].CreateSessionAsync(id, ["a"], cancellationToken: Ct)));

        var stored = await StoredIdsAsync(instances[0]);
        var evicted = Evicted(logs);
        stored.Should().HaveCount(Max);
        (await instances[0].GetStatisticsAsync(Ct)).SessionCount.Should().Be(Max);
        evicted.Should().OnlyHaveUniqueItems().And.HaveCount(created.Length - Max);
        stored.Concat(evicted).Should().BeEquivalentTo(created, "each created session is stored or was evicted, and reported once");
        await RedisStoreChecks.CheckCountBoundsAsync(Db, _keys, "after the race");
    }

    /// <summary>
    /// 4 instances append batches of 3 to one session under Reject at 25: 8 batches are stored (24 messages, gapless),
    /// every other batch is refused whole, since a ninth would pass the limit.
    /// </summary>
    public async Task RejectHoldsAcrossConnectionsAsync()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => Open(maxMessages: 25)).ToArray();
        await instances[0].CreateSessionAsync("s", ["a"], cancellationToken: Ct);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(async b =>
        {
            try
            {
                await instances[b % 4].AddMessagesAsync("s", [.. Enumerable.Range(0, 3).Select(i => Message("s", $"b{b}-{i}"))], Ct);
                return true;
            }
            catch (QuotaExceededException)
            {
                return false;
            }
        }));

        outcomes.Count(stored => stored).Should().Be(8);
        var all = await RedisStoreChecks.CheckSessionAsync(instances[0], Db, _keys, "s", "after the race");
        all.Should().HaveCount(24);
        all!.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, 24).Select(i => (long)i));
        all.GroupBy(m => m.Id[..m.Id.IndexOf('-', StringComparison.Ordinal)]).Should().AllSatisfy(g => g.Should().HaveCount(3, "a batch is stored whole or not at all"));
    }

    /// <summary>A refused append changes no key: record, messages, id map, indexes and the bucket's statistics are byte for byte as before.</summary>
    public async Task RefusedAppendWritesNothingAsync()
    {
        var store = Open(NewClock(), maxMessages: 3);
        await store.CreateSessionAsync("s", ["a", "b"], cancellationToken: Ct);
        await store.AddMessagesAsync("s", [Message("s", "m-1"), Message("s", "m-2")], Ct);
        var keys = _keys.For("s");
        var bucket = RedisKeys.BucketOf("s");
        RedisKey[] touched = [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats, _keys.Participant(bucket, "a"), _keys.Participant(bucket, "b")];
        var before = await DumpAsync(touched);

        var act = () => store.AddMessagesAsync("s", [Message("s", "m-2"), Message("s", "m-3"), Message("s", "m-4"), Message("s", "m-3")], Ct);

        (await act.Should().ThrowAsync<QuotaExceededException>()).Which.Message.Should().Contain("holds 2 messages; 2 more", "m-2 is stored and m-3 repeats: two are new");
        (await DumpAsync(touched)).Should().Equal(before);
    }

    private async Task<List<string>> DumpAsync(RedisKey[] keys)
    {
        var dumps = new List<string>();
        foreach (var key in keys)
        {
            dumps.Add(await Db.KeyDumpAsync(key) is { } dump ? Convert.ToHexString(dump) : "(none)");
        }

        return dumps;
    }

    private static async Task ImportAsync(SessionPersistence store, string id, DateTimeOffset updatedAt) =>
        await store.Store.ImportSessionAsync(
            new ChatSession { SessionId = id, Participants = ["a"], CreatedAt = updatedAt, UpdatedAt = updatedAt, Version = 1 }, replaceExisting: false, Ct);

    private static async Task<List<string>> StoredIdsAsync(SessionPersistence store)
    {
        var ids = new List<string>();
        await foreach (var id in store.Store.ListSessionIdsAsync(Ct))
        {
            ids.Add(id);
        }

        return ids;
    }

    // The evicted ids of log event 607, in the order reported ("Evicted session ID, the least recently active, …").
    private static List<string> Evicted(CapturingLoggerFactory logs) =>
        [.. logs.Events.Where(e => e.Id.Id == 607).Select(e => e.Message["Evicted session ".Length..e.Message.IndexOf(", the least", StringComparison.Ordinal)])];

    private static ChatMessage Message(string sessionId, string id) => new()
    {
        Id = id,
        SessionId = sessionId,
        Sender = "a",
        Content = "content of " + id,
    };
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// ReadFrom = PreferReplica and MinReplicas on a primary with one replica. The replica is made to lag by cutting it
/// off its primary (<see cref="RedisReplicatedDeployment.DetachAsync"/>): deterministic, no sleeps; every test that
/// cuts it off attaches it again.
/// </summary>
[Collection(RedisReplicatedGroup.Name)]
public sealed class RedisReplicationTests(RedisReplicatedFixture redis) : IAsyncLifetime
{
    private static readonly TimeSpan ReplicaTimeout = TimeSpan.FromMilliseconds(500);

    private readonly string _prefix = "r" + Guid.NewGuid().ToString("N")[..12] + ":";
    private readonly List<SessionPersistence> _opened = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        // A failed test may have left the replica cut off.
        if (redis.UnavailableReason is null && !(await redis.Replica.CliAsync("info", "replication")).Contains("master_link_status:up", StringComparison.Ordinal))
        {
            await RedisReplicatedDeployment.AttachAsync(redis.Replica, redis.Primary);
        }

        await redis.DeleteKeysAsync(_prefix);
    }

    [Fact]
    public async Task Reads_PreferReplicaWhileTheReplicaLags_ShowThisInstancesWritesAndOnlyOthersReadStale()
    {
        var writer = Open(o => o.ReadFrom = ReadFrom.PreferReplica);
        var other = Open(o => o.ReadFrom = ReadFrom.PreferReplica);
        await writer.CreateSessionAsync("s-1", ["a", "b"], cancellationToken: Ct);
        await writer.AddMessageAsync(Message("s-1", "m-1"), Ct);
        await WaitForReplicaAsync();
        var replicaReadsBefore = await ReadCallsAsync(redis.Replica);

        await RedisReplicatedDeployment.DetachAsync(redis.Replica);
        await writer.AddMessagesAsync("s-1", [Message("s-1", "m-2"), Message("s-1", "m-3")], Ct);
        var session = await writer.GetSessionAsync("s-1", Ct);
        var updated = await writer.UpdateSessionAsync(session! with { Title = "renamed" }, Ct);

        // This instance: its appends and update, at once, although the replica has neither.
        (await writer.GetMessagesAsync("s-1", 50, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2", "m-3");
        var read = await writer.GetSessionAsync("s-1", Ct);
        read!.Title.Should().Be("renamed");
        read.Version.Should().Be(updated.Version);

        // Another instance reads the lagging replica: stale, as documented for writes of other instances.
        (await other.GetMessagesAsync("s-1", 50, Ct)).Select(m => m.Id).Should().Equal("m-1");
        (await other.GetSessionAsync("s-1", Ct))!.Title.Should().BeNull();

        // A delete: gone for this instance, still there on the replica.
        (await writer.DeleteSessionAsync("s-1", Ct)).Should().BeTrue();
        (await writer.GetSessionAsync("s-1", Ct)).Should().BeNull();
        var gone = () => writer.GetMessagesAsync("s-1", 50, Ct);
        await gone.Should().ThrowAsync<SessionNotFoundException>();
        (await other.GetSessionAsync("s-1", Ct)).Should().NotBeNull();

        // ... and re-created: this instance sees the new, empty session, not the replica's old one.
        await writer.CreateSessionAsync("s-1", ["c"], cancellationToken: Ct);
        (await writer.GetMessagesAsync("s-1", 50, Ct)).Should().BeEmpty();
        (await writer.GetSessionAsync("s-1", Ct))!.Participants.Should().Equal("c");

        (await ReadCallsAsync(redis.Replica)).Should().BeGreaterThan(replicaReadsBefore, "the reads went to the replica first");
        await RedisReplicatedDeployment.AttachAsync(redis.Replica, redis.Primary);
    }

    [Fact]
    public async Task Reads_PreferReplicaAndReplicaCaughtUp_AreAnsweredByTheReplica()
    {
        var store = Open(o => o.ReadFrom = ReadFrom.PreferReplica);
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("s-1", "m-1"), Ct);
        await WaitForReplicaAsync();
        var replicaBefore = await ReadCallsAsync(redis.Replica);
        var primaryBefore = await ReadCallsAsync(redis.Primary);

        for (var i = 0; i < 10; i++)
        {
            (await store.GetMessagesAsync("s-1", 50, Ct)).Should().ContainSingle();
            (await store.GetSessionAsync("s-1", Ct)).Should().NotBeNull();
        }

        (await ReadCallsAsync(redis.Replica) - replicaBefore).Should().BeGreaterThanOrEqualTo(20);
        (await ReadCallsAsync(redis.Primary) - primaryBefore).Should().BeLessThan(5, "no read fell back to the primary");
    }

    [Fact]
    public async Task AddMessage_MinReplicasOne_IsOnTheReplicaWhenAcknowledged()
    {
        var store = Open(o => o.MinReplicas = 1);
        var replica = ReplicaReader();
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        var waitsBefore = await CallsAsync(redis.Primary, "wait");

        for (var i = 1; i <= 20; i++)
        {
            var stored = await store.AddMessageAsync(Message("s-1", $"m-{i}"), Ct);

            // Read on the replica itself right after the acknowledgement, no waiting.
            var page = await replica.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = stored.Sequence - 1, Limit = 1 }, Ct);
            page.Messages.Should().ContainSingle().Which.Id.Should().Be($"m-{i}");
        }

        // Redis 7.0 has no WAITAOF: the store waits with WAIT, once per append.
        (await CallsAsync(redis.Primary, "wait") - waitsBefore).Should().Be(20);
        (await CallsAsync(redis.Primary, "waitaof")).Should().Be(0);
    }

    [Fact]
    public async Task AddMessage_MinReplicasAndReplicaCutOff_ThrowsReplicationTimeoutAndTheRetryStoresNoDuplicate()
    {
        var store = Open(o =>
        {
            o.MinReplicas = 1;
            o.ReplicaTimeout = ReplicaTimeout;
        });
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("s-1", "m-1"), Ct);

        var outcomes = new List<string>();
        using var listener = OperationOutcomes(outcomes);
        await RedisReplicatedDeployment.DetachAsync(redis.Replica);
        var clock = Stopwatch.StartNew();
        var append = () => store.AddMessageAsync(Message("s-1", "m-2", "secret content"), Ct);
        var thrown = (await append.Should().ThrowAsync<ReplicationTimeoutException>()).Which;
        clock.Stop();

        clock.Elapsed.Should().BeGreaterThanOrEqualTo(ReplicaTimeout - TimeSpan.FromMilliseconds(50)).And.BeLessThan(ReplicaTimeout + TimeSpan.FromSeconds(2));
        thrown.Should().BeAssignableTo<StoreUnavailableException>();
        thrown.Message.Should().Contain("may exist").And.Contain("retry with the same message ids is safe").And.NotContain("secret");
        (await store.GetMessagesAsync("s-1", 50, Ct)).Select(m => m.Id).Should().Equal(["m-1", "m-2"], "the primary has the unacknowledged write");
        lock (outcomes)
        {
            outcomes.Should().Contain("add_message:replication_timeout", "the operations counter tells these failures from other unavailability");
        }

        await RedisReplicatedDeployment.AttachAsync(redis.Replica, redis.Primary);
        var retried = await store.AddMessageAsync(Message("s-1", "m-2", "secret content"), Ct);

        retried.Sequence.Should().Be(2, "the retry returns the stored original");
        (await store.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(2);
        (await ReplicaReader().GetMessagesAsync("s-1", 50, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2");
    }

    [Fact]
    public async Task Writes_MinReplicasAndReplicaCutOff_EveryKindOfWriteThrowsReplicationTimeout()
    {
        var store = Open(o =>
        {
            o.MinReplicas = 1;
            o.ReplicaTimeout = TimeSpan.FromMilliseconds(100);
        });
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2")], Ct);
        var session = await store.GetSessionAsync("s-1", Ct);

        await RedisReplicatedDeployment.DetachAsync(redis.Replica);
        Func<Task>[] writes =
        [
            () => store.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct),
            () => store.UpdateSessionAsync(session! with { Title = "t" }, Ct),
            () => store.AddMessageAsync(Message("s-1", "m-3"), Ct),
            () => store.DeleteSessionAsync("s-2", Ct),
        ];
        foreach (var write in writes)
        {
            await write.Should().ThrowAsync<ReplicationTimeoutException>();
        }

        await RedisReplicatedDeployment.AttachAsync(redis.Replica, redis.Primary);
    }

    // "operation:outcome" of every count of the operation duration histogram (other tests' counts too: only inclusion is checked).
    private static MeterListener OperationOutcomes(List<string> outcomes)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Multichat.Persistence" && instrument.Name == "multichat.persistence.operation.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var all = tags.ToArray();
            var entry = $"{all.Single(t => t.Key == "multichat.operation").Value}:{all.Single(t => t.Key == "multichat.outcome").Value}";
            lock (outcomes)
            {
                outcomes.Add(entry);
            }
        });
        listener.Start();
        return listener;
    }

    private SessionPersistence Open(Action<SessionPersistenceOptions> configure) => Open(redis.ConnectionString, configure);

    // A store connected to the replica alone: its reads are answered by the replica, whatever the primary has.
    private SessionPersistence ReplicaReader() => Open(redis.Replica.EndPoint, _ => { });

    private SessionPersistence Open(string connectionString, Action<SessionPersistenceOptions> configure)
    {
        var options = new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = connectionString,
            RedisKeyPrefix = _prefix,
            RedisOperationTimeout = TimeSpan.FromSeconds(5),
        };
        configure(options);
        var store = SessionPersistence.Create(options);
        _opened.Add(store);
        return store;
    }

    private static ChatMessage Message(string sessionId, string id, string content = "hello") =>
        new() { Id = id, SessionId = sessionId, Sender = "a", Content = content };

    // WAIT on the fixture's admin connection, which wrote nothing: it returns once the replica acknowledged the primary's offset.
    private async Task WaitForReplicaAsync()
    {
        await RedisReplicatedDeployment.WaitUntilAsync(
            async () =>
            {
                var primary = Offset(await redis.Primary.CliAsync("info", "replication"), "master_repl_offset:");
                var replica = Offset(await redis.Replica.CliAsync("info", "replication"), "slave_repl_offset:");
                return replica >= primary;
            },
            "the replica to reach the primary's replication offset");
    }

    private static long Offset(string info, string field)
    {
        var line = info.Split('\n').First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim(), CultureInfo.InvariantCulture);
    }

    // The commands a session or page read uses: HMGET (record) and EVALSHA/EVAL (page script).
    private static async Task<long> ReadCallsAsync(RedisServerProcess server) =>
        await CallsAsync(server, "hmget") + await CallsAsync(server, "evalsha") + await CallsAsync(server, "eval");

    private static async Task<long> CallsAsync(RedisServerProcess server, string command)
    {
        var stats = await server.CliAsync("info", "commandstats");
        var line = stats.Split('\n').FirstOrDefault(l => l.StartsWith($"cmdstat_{command}:", StringComparison.Ordinal));
        if (line is null)
        {
            return 0;
        }

        var calls = line.Split(':', 2)[1].Split(',')[0];
        return long.Parse(calls["calls=".Length..], CultureInfo.InvariantCulture);
    }
}

using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The limit policies on the 3-primary cluster (see <see cref="RedisLimitPolicyScenarios"/>), where an evicting create
/// takes the count lease as a rejecting one does and, while the count says full, evicts the least recently active
/// session through the ordinary delete first.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterLimitPolicyTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private readonly string _prefix = "p" + Guid.NewGuid().ToString("N")[..12] + ":";
    private RedisLimitPolicyScenarios? _scenarios;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RedisLimitPolicyScenarios Scenarios => _scenarios ??= new RedisLimitPolicyScenarios(cluster, _prefix);

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => Scenarios.DisposeAsync();

    [Fact]
    public Task CreateSession_LimitBelowTheStoredCountUnderEvictOnACluster_EvictsSeveralOldestFirst() => Scenarios.LoweredLimitEvictsSeveralOldestFirstAsync();

    [Fact]
    public Task CreateSession_ActivityTiesUnderEvictOnACluster_BreakByTicksThenCodePointOrder() => Scenarios.TiesAreBrokenByTicksThenCodePointOrderAsync();

    [Fact]
    public Task CreateSession_VanishedAndDamagedOldestUnderEvictOnACluster_AreNotEvicted() => Scenarios.VanishedAndDamagedSessionsAreNotEvictedAsync();

    [Fact]
    public Task CreateSession_FourConnectionsRaceUnderEvictOnACluster_EndAtTheLimitAndReportEachEvictionOnce() => Scenarios.IndependentConnectionsRaceAsync();

    [Fact]
    public Task AddMessages_FourConnectionsRaceUnderRejectOnACluster_StoreWholeBatchesUpToTheLimit() => Scenarios.RejectHoldsAcrossConnectionsAsync();

    [Fact]
    public Task AddMessages_RefusedUnderRejectOnACluster_ChangesNoKey() => Scenarios.RefusedAppendWritesNothingAsync();

    [Fact]
    public async Task CreateSession_CountHeldFullByAStoppedCreatorsLeaseUnderEvict_IsRefusedWithoutEvictingUntilItExpires()
    {
        var logs = new CapturingLoggerFactory();
        var store = Scenarios.Open(maxSessions: 3, logs: logs);
        await store.CreateSessionAsync("s-0", ["a"], cancellationToken: Ct);
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        var creating = (RedisKey)(_prefix + "{sessions}:creating");
        var time = await cluster.Admin.GetServers()[0].TimeAsync();
        var now = (time - DateTime.UnixEpoch).TotalMilliseconds;
        var db = cluster.Admin.GetDatabase();

        // A process took its lease and stopped: 2 sessions + 1 lease = MaxSessions, though only 2 sessions exist.
        await db.SortedSetAddAsync(creating, "stopped", now);
        var refused = () => store.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct);

        await refused.Should().ThrowAsync<QuotaExceededException>("a lease that may still land holds its slot, and a phantom must not cost a real session");
        logs.Events.Should().NotContain(e => e.Id.Id == 607);
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(2);

        await db.SortedSetAddAsync(creating, "stopped", now - TimeSpan.FromHours(2).TotalMilliseconds);
        await store.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct);

        logs.Events.Should().NotContain(e => e.Id.Id == 607, "once the lease expired the recount found room");
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(3);
    }
}

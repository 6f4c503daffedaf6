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
}

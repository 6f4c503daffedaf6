using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// An injected failure at every fault point of every write on the 3-primary cluster (see
/// <see cref="RedisFaultPointScenarios"/>), where creates, deletes and imports of a session take a lease on the session
/// count, run their script, then settle: a failure between those round trips leaves the count high by at most its lease
/// until the lease expires, never low.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterFaultPointTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private readonly RedisFaultPointScenarios _scenarios = new(cluster, "f" + Guid.NewGuid().ToString("N")[..12] + ":");

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _scenarios.DisposeAsync();

    [Fact]
    public async Task EveryWrite_FailureAtEachFaultPointOnACluster_KeepsTheCountWithinItsLeasesAndARetryStoresNothingTwice()
    {
        var points = await _scenarios.EveryPointAsync();

        points["append"].Should().Equal("redis.append.before-script", "redis.append.after-script");
        points["create"].Should().Equal(
            "redis.create.before-lease", "redis.create.after-lease", "redis.create.before-script", "redis.create.after-script", "redis.create.after-settle");
        points["delete"].Should().Equal(
            "redis.delete.before-lease", "redis.delete.after-lease", "redis.delete.before-script", "redis.delete.after-script", "redis.delete.after-settle");
        points["import"].Should().Equal(
            "redis.import-session.before-lease", "redis.import-session.after-lease", "redis.import-session.before-script", "redis.import-session.after-script",
            "redis.import-session.after-settle", "redis.import-messages.before-script", "redis.import-messages.after-script");
        points["evict"].Should().Equal(
            "redis.create.before-lease", "redis.delete.before-lease", "redis.delete.after-lease", "redis.delete.before-script", "redis.delete.after-script",
            "redis.delete.after-settle", "redis.create.after-lease", "redis.create.before-script", "redis.create.after-script", "redis.create.after-settle");
    }
}

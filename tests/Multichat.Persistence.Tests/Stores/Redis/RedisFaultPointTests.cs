using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>An injected failure at every fault point of every write on a single node (see <see cref="RedisFaultPointScenarios"/>).</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisFaultPointTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly RedisFaultPointScenarios _scenarios = new(redis, "f" + Guid.NewGuid().ToString("N")[..12] + ":");

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _scenarios.DisposeAsync();

    [Fact]
    public async Task EveryWrite_FailureAtEachFaultPoint_KeepsTheStoreConsistentAndARetryStoresNothingTwice()
    {
        var points = await _scenarios.EveryPointAsync();

        points["append"].Should().Equal("redis.append.before-script", "redis.append.after-script");
        points["batch"].Should().Equal("redis.append.before-script", "redis.append.after-script");
        points["trim"].Should().Equal("redis.trim.before-script", "redis.trim.after-script");
        points["update"].Should().Equal("redis.update.before-script", "redis.update.after-script");
        points["create"].Should().Equal("redis.create.before-script", "redis.create.after-script");
        points["delete"].Should().Equal("redis.delete.before-script", "redis.delete.after-script");
        points["import"].Should().Equal(
            "redis.import-session.before-script", "redis.import-session.after-script", "redis.import-messages.before-script", "redis.import-messages.after-script");
        points["evict"].Should().Equal(
            "redis.create.before-script", "redis.create.after-script", "redis.create.before-script", "redis.create.after-script");
    }
}

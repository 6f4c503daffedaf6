namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>Several processes appending to one session on the 3-primary cluster.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterMultiProcessTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private readonly string _prefix = "w" + Guid.NewGuid().ToString("N")[..12] + ":";

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await cluster.DeleteKeysAsync(_prefix);

    [Fact]
    public Task AddMessage_FourProcessesThousandEachOnACluster_ExactlyFourThousandGaplessSequences() =>
        RedisMultiProcessTests.FourProcessesAsync(cluster.ConnectionString, _prefix);
}

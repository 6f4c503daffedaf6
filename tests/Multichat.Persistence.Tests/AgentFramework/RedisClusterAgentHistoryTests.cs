using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>The adapter over a 3-primary Redis Cluster this run started.</summary>
[Collection(RedisClusterGroup.Name)]
public class RedisClusterAgentHistoryTests(RedisClusterFixture cluster) : AgentHistoryTests
{
    public override ValueTask InitializeAsync()
    {
        cluster.Require();
        return base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = cluster.ConnectionString;
        options.RedisKeyPrefix = storageKey + ":";
    }

    protected override async ValueTask DeleteStorageAsync(string storageKey) => await cluster.DeleteKeysAsync(storageKey + ":");
}

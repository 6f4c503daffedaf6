using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The conformance suite against a 3-primary Redis Cluster; each test keeps to its own key prefix.</summary>
[Collection(RedisClusterGroup.Name)]
public class RedisClusterConformanceTests(RedisClusterFixture cluster) : SessionStoreConformanceTests
{
    public override async ValueTask InitializeAsync()
    {
        cluster.Require();
        await base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = cluster.ConnectionString;
        options.RedisKeyPrefix = storageKey + ":";
    }

    protected override async ValueTask DeleteStorageAsync(string storageKey) => await cluster.DeleteKeysAsync(storageKey + ":");
}

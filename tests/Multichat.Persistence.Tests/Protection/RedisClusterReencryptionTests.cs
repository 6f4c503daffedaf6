using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>Re-encryption on a 3-primary Redis Cluster (skipped without one locally, failed with CI=true).</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterReencryptionTests(RedisClusterFixture cluster) : ReencryptionTests
{
    public override ValueTask InitializeAsync()
    {
        cluster.Require();
        return base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = cluster.ConnectionString;
        options.RedisKeyPrefix = StorageKey + ":";
    }

    protected override async ValueTask DeleteStorageAsync() => await cluster.DeleteKeysAsync(StorageKey + ":");
}

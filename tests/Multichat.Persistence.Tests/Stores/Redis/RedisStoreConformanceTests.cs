using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The conformance suite against a single redis-server; each test keeps to its own key prefix.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public class RedisStoreConformanceTests(RedisSingleNodeFixture redis) : SessionStoreConformanceTests
{
    public override async ValueTask InitializeAsync()
    {
        redis.Require();
        await base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = redis.ConnectionString;
        options.RedisKeyPrefix = storageKey + ":";
    }

    protected override async ValueTask DeleteStorageAsync(string storageKey) => await redis.DeleteKeysAsync(storageKey + ":");
}

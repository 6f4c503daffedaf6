using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>Re-encryption on a single redis-server (skipped without one locally, failed with CI=true); each test keeps
/// to its own key prefix.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisReencryptionTests(RedisSingleNodeFixture redis) : ReencryptionTests
{
    public override ValueTask InitializeAsync()
    {
        redis.Require();
        return base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = redis.ConnectionString;
        options.RedisKeyPrefix = StorageKey + ":";
    }

    protected override async ValueTask DeleteStorageAsync() => await redis.DeleteKeysAsync(StorageKey + ":");
}

using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>The adapter over a single redis-server this run started; each test keeps to its own key prefix.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public class RedisAgentHistoryTests(RedisSingleNodeFixture redis) : AgentHistoryTests
{
    public override ValueTask InitializeAsync()
    {
        redis.Require();
        return base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = redis.ConnectionString;
        options.RedisKeyPrefix = storageKey + ":";
    }

    protected override async ValueTask DeleteStorageAsync(string storageKey) => await redis.DeleteKeysAsync(storageKey + ":");
}

using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The conformance suite on a primary with a replica, reads preferring the replica. MinReplicas = 1, so every write
/// is on the replica before it is acknowledged: the suite's second instances (another machine, in effect) then read
/// what the first wrote from the replica too; this instance's own reads would see its writes without it.
/// </summary>
[Collection(RedisReplicatedGroup.Name)]
public class RedisPreferReplicaConformanceTests(RedisReplicatedFixture redis) : SessionStoreConformanceTests
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
        options.ReadFrom = ReadFrom.PreferReplica;
        options.MinReplicas = 1;
    }

    protected override async ValueTask DeleteStorageAsync(string storageKey) => await redis.DeleteKeysAsync(storageKey + ":");
}

using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The conformance suite reading from the replica with the read cache on: the cache's head check reads the primary, and
/// a replica answer that does not agree with that head is returned but never cached.
/// </summary>
[Collection(RedisReplicatedGroup.Name)]
public sealed class RedisPreferReplicaCachedConformanceTests(RedisReplicatedFixture redis) : RedisPreferReplicaConformanceTests(redis)
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => CacheSettings.Cache(options);
}

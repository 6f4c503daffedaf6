using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The whole conformance suite against a Redis Cluster with the read cache on.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterCachedConformanceTests(RedisClusterFixture cluster) : RedisClusterConformanceTests(cluster)
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => CacheSettings.Cache(options);
}

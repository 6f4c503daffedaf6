using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The whole conformance suite against a single redis-server with the read cache on.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisCachedConformanceTests(RedisSingleNodeFixture redis) : RedisStoreConformanceTests(redis)
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => CacheSettings.Cache(options);
}

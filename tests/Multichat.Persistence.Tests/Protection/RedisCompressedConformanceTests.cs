using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against a single redis-server with compression on (and encryption off).</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisCompressedConformanceTests(RedisSingleNodeFixture redis) : RedisStoreConformanceTests(redis)
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Compress(options);
}

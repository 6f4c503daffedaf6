using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against a Redis Cluster with compression on (and encryption off).</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterCompressedConformanceTests(RedisClusterFixture cluster) : RedisClusterConformanceTests(cluster)
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Compress(options);
}

using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against a Redis Cluster with encryption on.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterEncryptedConformanceTests(RedisClusterFixture cluster) : RedisClusterConformanceTests(cluster)
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Encrypt(options);
}

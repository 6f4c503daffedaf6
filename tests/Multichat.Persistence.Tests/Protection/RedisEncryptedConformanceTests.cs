using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against a single redis-server with encryption on.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisEncryptedConformanceTests(RedisSingleNodeFixture redis) : RedisStoreConformanceTests(redis)
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Encrypt(options);
}

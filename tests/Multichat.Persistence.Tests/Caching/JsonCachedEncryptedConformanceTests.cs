using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The whole conformance suite against the Json store with the read cache and encryption both on: the cache
/// sits above the protection layer, so it keeps plain values and a hit decrypts nothing.</summary>
public sealed class JsonCachedEncryptedConformanceTests : JsonStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options)
    {
        CacheSettings.Cache(options);
        ProtectionSettings.Encrypt(options);
    }
}

using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The whole conformance suite against the Json store with the read cache on.</summary>
public sealed class JsonCachedConformanceTests : JsonStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => CacheSettings.Cache(options);
}

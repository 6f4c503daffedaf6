using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Memory;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The whole conformance suite against the Memory store with the read cache on.</summary>
public sealed class MemoryCachedConformanceTests : MemoryStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => CacheSettings.Cache(options);
}

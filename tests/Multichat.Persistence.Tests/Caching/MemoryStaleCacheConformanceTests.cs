using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Memory;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>
/// The whole conformance suite against the Memory store with the read cache on and <see cref="CacheOptions.MaxStaleness"/>
/// an hour: one instance must still read every one of its own writes (the suite's tests that use a second instance
/// are the ones MaxStaleness exempts, and the Memory store has none).
/// </summary>
public sealed class MemoryStaleCacheConformanceTests : MemoryStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options)
    {
        CacheSettings.Cache(options);
        options.Cache.MaxStaleness = TimeSpan.FromHours(1);
    }
}

using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The whole conformance suite against the Sqlite store with the read cache on.</summary>
public sealed class SqliteCachedConformanceTests : SqliteStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => CacheSettings.Cache(options);
}

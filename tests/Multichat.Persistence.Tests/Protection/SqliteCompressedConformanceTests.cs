using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against the Sqlite store with compression on (and encryption off).</summary>
public sealed class SqliteCompressedConformanceTests : SqliteStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Compress(options);
}

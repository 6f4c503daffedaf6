using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against the Sqlite store with encryption on.</summary>
public sealed class SqliteEncryptedConformanceTests : SqliteStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Encrypt(options);
}

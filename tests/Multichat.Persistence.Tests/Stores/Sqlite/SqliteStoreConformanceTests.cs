using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// The conformance suite against real SQLite files: each test gets its own folder, and a second instance is a second
/// store (its own writer and reader connections) over the same <c>sessions.db</c>, as another process would open it.
/// </summary>
public class SqliteStoreConformanceTests : SessionStoreConformanceTests
{
    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey)
    {
        options.StorageType = StorageType.Sqlite;
        options.StoragePath = SqliteTestFolder.PathFor(storageKey);
    }

    protected override ValueTask DeleteStorageAsync(string storageKey)
    {
        SqliteTestFolder.Delete(storageKey);
        return ValueTask.CompletedTask;
    }
}

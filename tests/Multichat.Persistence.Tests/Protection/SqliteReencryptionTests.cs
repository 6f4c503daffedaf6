using Multichat.Persistence.Tests.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>Re-encryption on the Sqlite store; each instance opens the test's <c>sessions.db</c> with its own connections.</summary>
public sealed class SqliteReencryptionTests : ReencryptionTests
{
    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Sqlite;
        options.StoragePath = SqliteTestFolder.PathFor(StorageKey);
    }

    protected override ValueTask DeleteStorageAsync()
    {
        SqliteTestFolder.Delete(StorageKey);
        return ValueTask.CompletedTask;
    }
}

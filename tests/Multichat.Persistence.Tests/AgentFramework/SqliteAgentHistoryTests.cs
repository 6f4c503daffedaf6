using Multichat.Persistence.Tests.Stores.Sqlite;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>The adapter over the Sqlite store (a real database file).</summary>
public class SqliteAgentHistoryTests : AgentHistoryTests
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

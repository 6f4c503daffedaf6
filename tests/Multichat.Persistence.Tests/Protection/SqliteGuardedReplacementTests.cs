using FluentAssertions;
using Multichat.Persistence.Tests.Stores.Sqlite;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The guarded replacement on the Sqlite store: the check inside the replacement's write transaction.</summary>
public sealed class SqliteGuardedReplacementTests : GuardedReplacementTests
{
    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Sqlite;
        options.StoragePath = SqliteTestFolder.PathFor(StorageKey);
    }

    protected override Task NothingStagedAsync()
    {
        SqliteTestFiles.IntegrityCheck(SqliteTestFolder.PathFor(StorageKey)).Should().Be("ok");
        return Task.CompletedTask;
    }

    protected override ValueTask DeleteStorageAsync()
    {
        SqliteTestFolder.Delete(StorageKey);
        return ValueTask.CompletedTask;
    }
}

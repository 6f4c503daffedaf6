using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>What the Sqlite store needs to open, built from <see cref="SessionPersistenceOptions"/> in the one composition place.</summary>
/// <param name="ConnectionString">A Microsoft.Data.Sqlite connection string naming a database file.</param>
/// <param name="Durability">Whether a commit is fsynced (<c>synchronous=FULL</c>).</param>
/// <param name="BusyTimeout">How long a call waits for another process's write lock.</param>
/// <param name="TimeProvider">The store clock.</param>
/// <param name="Faults">The fault-injection tests' hook; null outside them.</param>
/// <param name="FilePermissions">The Unix mode of the folder and database file the store creates (SQLite gives its
/// <c>-wal</c>, <c>-shm</c> and <c>-journal</c> files the database file's).</param>
internal sealed record SqliteStoreOptions(
    string ConnectionString,
    Durability Durability,
    TimeSpan BusyTimeout,
    TimeProvider TimeProvider,
    FaultInjection? Faults = null,
    FilePermissions FilePermissions = FilePermissions.OwnerOnly);

namespace Multichat.Persistence;

/// <summary>Which store <see cref="SessionPersistence.Create"/> opens.</summary>
public enum StorageType
{
    /// <summary>Plain files in a folder (<see cref="SessionPersistenceOptions.StoragePath"/>): the embedded default.</summary>
    Json = 0,

    /// <summary>In process memory only: for tests and prototypes. Nothing survives the process.</summary>
    Memory = 1,

    /// <summary>One SQLite database file, <c>{StoragePath}/sessions.db</c>: one machine, many processes.</summary>
    Sqlite = 2,

    /// <summary>A Redis server or cluster: many machines.</summary>
    Redis = 3,
}

using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// The layout of <c>sessions.db</c> and its forward migrations. The version lives in <c>PRAGMA user_version</c>; a new
/// file is created by running every migration from 0, so the upgrade path is the path every database takes.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The schema version this build writes. A file with a higher one was written by a newer build.</summary>
    public const long CurrentVersion = 6;

    /// <summary>Marks the file as ours in the SQLite header (<c>PRAGMA application_id</c>): "MCHT".</summary>
    public const long ApplicationId = 0x4D434854;

    // Migration i takes the schema from version i to i + 1. Never edit a shipped step: add one.
    private static readonly string[] Migrations =
    [
        // 0 → 1: sessions (participants as a JSON array) and messages. Timestamps are UTC ticks (100 ns since
        // 0001-01-01), so they round-trip exactly; metadata is a JSON object, NULL when empty.
        """
        CREATE TABLE sessions (
            session_id    TEXT    NOT NULL PRIMARY KEY,
            participants  TEXT    NOT NULL,
            title         TEXT,
            metadata      TEXT,
            created_at    INTEGER NOT NULL,
            updated_at    INTEGER NOT NULL,
            version       INTEGER NOT NULL,
            last_seq      INTEGER NOT NULL,
            message_count INTEGER NOT NULL
        );
        CREATE TABLE messages (
            session_id TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
            seq        INTEGER NOT NULL,
            id         TEXT    NOT NULL,
            sender     TEXT    NOT NULL,
            recipient  TEXT,
            content    TEXT    NOT NULL,
            timestamp  INTEGER NOT NULL,
            metadata   TEXT,
            PRIMARY KEY (session_id, seq),
            UNIQUE (session_id, id)
        );
        """,

        // 1 → 2: listing by participant and by recency through indexes instead of scanning every session.
        """
        CREATE TABLE session_participants (
            session_id  TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
            position    INTEGER NOT NULL,
            participant TEXT    NOT NULL,
            PRIMARY KEY (session_id, position)
        ) WITHOUT ROWID;
        INSERT INTO session_participants (session_id, position, participant)
            SELECT s.session_id, CAST(j.key AS INTEGER), j.value FROM sessions AS s, json_each(s.participants) AS j;
        CREATE INDEX ix_session_participants_participant ON session_participants (participant, session_id);
        CREATE INDEX ix_sessions_recency ON sessions (updated_at DESC, session_id DESC);
        """,

        // 2 → 3: an append no longer rewrites its session's row, which cost two more pages per commit (the row and its
        // recency-index entry). The sequence and count are derived from the row plus the session's newest message
        // (found through the (session_id, seq) key); the activity time moves to session_activity, one row per session
        // keyed by time, so moving it to "now" touches one page. appended_at is the store's clock at the append (NULL
        // for imported rows and rows written before v3, whose activity the session row already holds).
        """
        ALTER TABLE messages ADD COLUMN appended_at INTEGER;
        CREATE TABLE session_activity (
            updated_at INTEGER NOT NULL,
            session_id TEXT    NOT NULL,
            PRIMARY KEY (updated_at, session_id)
        ) WITHOUT ROWID;
        INSERT INTO session_activity (updated_at, session_id) SELECT updated_at, session_id FROM sessions;
        DROP INDEX ix_sessions_recency;
        """,

        // 3 → 4: the number of sessions, so a create under MaxSessions checks the limit by reading one row in its own
        // write transaction instead of counting every session. Triggers keep it, not the store's code: every path
        // that adds or removes a session row (create, import, replace, delete, cleanup, the sqlite3 shell, and a
        // process of an older build that opened the file before this migration) counts through them. An
        // INSERT ... ON CONFLICT DO NOTHING that inserts nothing fires no trigger.
        """
        CREATE TABLE session_count (
            id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
            sessions INTEGER NOT NULL
        );
        INSERT INTO session_count (id, sessions) SELECT 0, count(*) FROM sessions;
        CREATE TRIGGER tr_sessions_count_insert AFTER INSERT ON sessions
        BEGIN
            UPDATE session_count SET sessions = sessions + 1 WHERE id = 0;
        END;
        CREATE TRIGGER tr_sessions_count_delete AFTER DELETE ON sessions
        BEGIN
            UPDATE session_count SET sessions = sessions - 1 WHERE id = 0;
        END;
        """,

        // 4 → 5: the life of a session, for the read cache's head check (Caching.SessionHead.Epoch): every insert of a
        // session row (create, import, replacement) gives it a new random epoch, updates keep it. Rows written before
        // this step, and by a process of an older build that had the file open, have 0.
        """
        ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
        """,

        // 5 → 6: read cursors, the highest sequence each participant marked read (SessionPersistence.MarkReadAsync);
        // unread counts are computed from the messages, never stored. Keyed by session first, so a session's cursors
        // are one range, and the cascade removes them with the session row on every path that deletes or replaces it
        // (delete, eviction, import with replace, restore), as it does the messages and participant rows.
        """
        CREATE TABLE read_cursors (
            session_id  TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
            participant TEXT    NOT NULL,
            seq         INTEGER NOT NULL,
            PRIMARY KEY (session_id, participant)
        ) WITHOUT ROWID;
        """,
    ];

    /// <summary>
    /// Checks the file's version and brings it to <see cref="CurrentVersion"/>. A file of a newer version, or one
    /// that is not ours, is left untouched and reported.
    /// </summary>
    public static void Initialize(SqliteConnectionLease lease, string dataSource, ILogger logger)
    {
        // Recognised on reads alone first: nothing (not even the WAL flag) is written to a file before it is known to
        // be ours or empty.
        var version = Recognize(lease, dataSource);
        if (version == CurrentVersion)
        {
            SetWal(lease);
            return;
        }

        SetWal(lease);
        lease.Faults?.Reach(SqliteFaultPoints.SchemaBeforeBegin);
        if (!lease.TryBeginImmediate())
        {
            throw new SqliteException("database is locked (another process is opening or migrating it)", 5);
        }

        try
        {
            // Another process may have created or migrated the schema while we waited for the write lock.
            version = Recognize(lease, dataSource);
            var from = version;
            for (var step = version; step < CurrentVersion; step++)
            {
                Execute(lease, Migrations[step]);
                lease.Faults?.Reach(SqliteFaultPoints.SchemaAfterMigration);
            }

            Execute(lease, string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version = {CurrentVersion}; PRAGMA application_id = {ApplicationId};"));
            lease.Faults?.Reach(SqliteFaultPoints.SchemaBeforeCommit);
            lease.CommitIfOpen();
            lease.Faults?.Reach(SqliteFaultPoints.SchemaAfterCommit);
            if (from != 0)
            {
                SqliteLog.SchemaMigrated(logger, from, CurrentVersion);
            }
        }
        catch
        {
            lease.RollbackQuietly();
            throw;
        }
    }

    /// <summary>
    /// The schema version of a file that is ours (0: empty, ours to create), read without writing anything. Every
    /// version this library wrote carries <see cref="ApplicationId"/>; a file without it that holds tables or a
    /// <c>user_version</c> belongs to someone else, even when its version number looks like one of ours.
    /// </summary>
    private static long Recognize(SqliteConnectionLease lease, string dataSource)
    {
        // One statement, so one read snapshot: read one by one, another process creating the schema could commit
        // between the reads, and an empty version and id followed by its new tables would look like a foreign file.
        var (version, applicationId, objects) = Header(lease);
        if (applicationId != 0 && applicationId != ApplicationId)
        {
            throw new StoreCorruptedException(
                $"'{dataSource}' belongs to another application (application_id {applicationId}); the file was not changed. Point StoragePath or ConnectionString at a file of its own.");
        }

        if (applicationId == 0 && (version != 0 || objects != 0))
        {
            throw new StoreCorruptedException(
                $"'{dataSource}' is a SQLite database of another application (it has tables or a user_version but not Multichat's application_id); the file was not changed. Point StoragePath or ConnectionString at a folder or file of its own.");
        }

        if (version > CurrentVersion)
        {
            throw new StoreCorruptedException(
                $"'{dataSource}' has schema version {version}, written by a newer Multichat.Persistence; this version reads up to {CurrentVersion}. Upgrade the library; the file was not changed.");
        }

        return version;
    }

    private static void SetWal(SqliteConnectionLease lease)
    {
        // Persistent in the file; readers never block the writer and a killed writer leaves the last commit intact.
        lease.Faults?.Reach(SqliteFaultPoints.SchemaBeforeWal);
        using var command = lease.Connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        command.CommandTimeout = 1;
        command.ExecuteScalar();
        lease.Faults?.Reach(SqliteFaultPoints.SchemaAfterWal);
    }

    private static (long Version, long ApplicationId, long Objects) Header(SqliteConnectionLease lease)
    {
        using var command = lease.Connection.CreateCommand();
        command.CommandText = "SELECT (SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id), (SELECT count(*) FROM sqlite_master)";
        command.CommandTimeout = 1; // as SqliteConnectionLease.Get: the store's deadline, not Microsoft.Data.Sqlite's, bounds waits
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    private static void Execute(SqliteConnectionLease lease, string sql)
    {
        using var command = lease.Connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 1; // as SqliteConnectionLease.Get: the store's deadline, not Microsoft.Data.Sqlite's, bounds waits
        command.ExecuteNonQuery();
    }
}

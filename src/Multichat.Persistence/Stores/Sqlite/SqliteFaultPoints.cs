namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// The named steps of the Sqlite store's write paths where the fault-injection tests fail or kill a write (see
/// <see cref="Internal.FaultInjection"/>). SQLite's own file I/O cannot be wrapped from C#, so these are the C# steps
/// around it: a throw at a point inside a transaction models "that statement failed" (the store rolls back), one at an
/// "after-commit" point "it committed but the caller saw an error". Each write is one transaction: its
/// <c>before-begin</c>, the statement points of its work, <c>before-commit</c>, <c>after-commit</c>.
/// </summary>
internal static class SqliteFaultPoints
{
    // Any rollback of the writer: after a failed step, and the append's own when it meets a stored id.

    /// <summary>The transaction is still open and about to be rolled back; a throw here models a ROLLBACK that failed.</summary>
    public const string WriteBeforeRollback = "sqlite.write.before-rollback";

    // Opening: once per store instance, before its first call runs.

    /// <summary>The writer connection is open and the file recognised as ours or empty; the WAL flag is not written yet.</summary>
    public const string SchemaBeforeWal = "sqlite.schema.before-wal";

    /// <summary>The WAL journal mode is set (persistent in the file); no migration has begun.</summary>
    public const string SchemaAfterWal = "sqlite.schema.after-wal";

    /// <summary>The file needs creating or migrating; its migration transaction has not begun.</summary>
    public const string SchemaBeforeBegin = "sqlite.schema.before-begin";

    /// <summary>One migration step ran inside the open migration transaction; nothing of it is committed.</summary>
    public const string SchemaAfterMigration = "sqlite.schema.after-migration";

    /// <summary>Every migration step and the new user_version are written, not committed.</summary>
    public const string SchemaBeforeCommit = "sqlite.schema.before-commit";

    /// <summary>The schema is committed at the current version; the store is not marked open yet.</summary>
    public const string SchemaAfterCommit = "sqlite.schema.after-commit";

    // Append (and batch): AppendAssumingNew, and AppendWithLookups when an id is stored already, each its own transaction.

    /// <summary>The append has not begun its transaction: nothing written.</summary>
    public const string AppendBeforeBegin = "sqlite.append.before-begin";

    /// <summary>One message row is inserted (or found stored already) in the open transaction; nothing committed.</summary>
    public const string AppendAfterInsert = "sqlite.append.after-insert";

    /// <summary>
    /// The assuming-new transaction met a stored id (or, under a Reject limit, counted some before inserting) and rolled
    /// back; the one with lookups has not begun.
    /// </summary>
    public const string AppendAfterRollbackToLookups = "sqlite.append.after-rollback-to-lookups";

    /// <summary>Every message is inserted and the activity row moved; the limit trim (if any) has not run; nothing committed.</summary>
    public const string AppendAfterActivity = "sqlite.append.after-activity";

    /// <summary>All of the append is written, including a trim to MaxMessagesPerSession; not committed.</summary>
    public const string AppendBeforeCommit = "sqlite.append.before-commit";

    /// <summary>The append is committed; the caller has not been answered.</summary>
    public const string AppendAfterCommit = "sqlite.append.after-commit";

    // Trimming, shared by TrimMessages and the trim an append runs under MaxMessagesPerSession.

    /// <summary>The oldest messages are deleted in the open transaction; the counters are not written yet.</summary>
    public const string TrimAfterDelete = "sqlite.trim.after-delete";

    /// <summary>The counters (last_seq, message_count, updated_at) are written after a trim; nothing committed.</summary>
    public const string TrimAfterCounters = "sqlite.trim.after-counters";

    // TrimMessages.

    /// <summary>The trim has not begun its transaction: nothing deleted.</summary>
    public const string TrimBeforeBegin = "sqlite.trim.before-begin";

    /// <summary>The trim's deletes and counters are written, not committed.</summary>
    public const string TrimBeforeCommit = "sqlite.trim.before-commit";

    /// <summary>The trim is committed; the caller has not been told how many messages went.</summary>
    public const string TrimAfterCommit = "sqlite.trim.after-commit";

    // CreateSession (with or without MaxSessions, evicting or not: the evictions are in the create's transaction).

    /// <summary>The create has not begun its transaction.</summary>
    public const string CreateBeforeBegin = "sqlite.create.before-begin";

    /// <summary>The session count is read under the write lock (MaxSessions only); nothing written.</summary>
    public const string CreateAfterCount = "sqlite.create.after-count";

    /// <summary>
    /// Under EvictLeastRecentlyActive at the limit: one least recently active session is deleted with its messages,
    /// participant and activity rows (the count by trigger), through the delete's own points; the new session is not
    /// inserted; nothing committed.
    /// </summary>
    public const string CreateAfterEvict = "sqlite.create.after-evict";

    /// <summary>The create's rows (session, participants, activity, and the count by trigger) are written, and any eviction; not committed.</summary>
    public const string CreateBeforeCommit = "sqlite.create.before-commit";

    /// <summary>The create is committed; the caller has not been answered.</summary>
    public const string CreateAfterCommit = "sqlite.create.after-commit";

    // Rows a create and an import write (SqliteSessionRows.InsertSession).

    /// <summary>The sessions row is inserted (the count trigger ran); participants and activity are not.</summary>
    public const string SessionAfterInsert = "sqlite.session.after-insert";

    /// <summary>The participant rows are written; the activity row is not.</summary>
    public const string SessionAfterParticipants = "sqlite.session.after-participants";

    // UpdateSession.

    /// <summary>The update has not begun its transaction.</summary>
    public const string UpdateBeforeBegin = "sqlite.update.before-begin";

    /// <summary>The sessions row has its new fields and version; activity and participant rows are not written yet.</summary>
    public const string UpdateAfterRow = "sqlite.update.after-row";

    /// <summary>The activity row is moved; the participant rows are the old ones still.</summary>
    public const string UpdateAfterActivity = "sqlite.update.after-activity";

    /// <summary>The old participant rows are deleted, the new ones not inserted.</summary>
    public const string UpdateAfterDeleteParticipants = "sqlite.update.after-delete-participants";

    /// <summary>All of the update is written, not committed.</summary>
    public const string UpdateBeforeCommit = "sqlite.update.before-commit";

    /// <summary>The update is committed; the caller has not been given the new version.</summary>
    public const string UpdateAfterCommit = "sqlite.update.after-commit";

    // DeleteSession (and the delete an import with replace runs first, and each eviction of a create under EvictLeastRecentlyActive).

    /// <summary>The delete has not begun its transaction.</summary>
    public const string DeleteBeforeBegin = "sqlite.delete.before-begin";

    /// <summary>The session's activity row is deleted; its sessions row (and with it, by cascade, its messages) is not.</summary>
    public const string DeleteAfterActivity = "sqlite.delete.after-activity";

    /// <summary>The sessions row and, by cascade, its messages and participants are deleted; not committed.</summary>
    public const string DeleteAfterSession = "sqlite.delete.after-session";

    /// <summary>The delete is written, not committed.</summary>
    public const string DeleteBeforeCommit = "sqlite.delete.before-commit";

    /// <summary>The delete is committed; the caller has not been answered.</summary>
    public const string DeleteAfterCommit = "sqlite.delete.after-commit";

    // ImportSession: one transaction (delete when replacing, then insert).

    /// <summary>The session import has not begun its transaction.</summary>
    public const string ImportSessionBeforeBegin = "sqlite.import-session.before-begin";

    /// <summary>The imported session's rows are written (after the replaced one's delete), not committed.</summary>
    public const string ImportSessionBeforeCommit = "sqlite.import-session.before-commit";

    /// <summary>The imported session is committed, with none of its messages yet (they come in later calls).</summary>
    public const string ImportSessionAfterCommit = "sqlite.import-session.after-commit";

    // ImportMessages: one transaction per chunk of an import.

    /// <summary>The chunk's transaction has not begun.</summary>
    public const string ImportMessagesBeforeBegin = "sqlite.import-messages.before-begin";

    /// <summary>One imported message row is inserted in the open transaction; nothing committed.</summary>
    public const string ImportMessagesAfterInsert = "sqlite.import-messages.after-insert";

    /// <summary>Every row of the chunk and the session's counters are written, not committed.</summary>
    public const string ImportMessagesBeforeCommit = "sqlite.import-messages.before-commit";

    /// <summary>The chunk is committed; the caller has not been answered.</summary>
    public const string ImportMessagesAfterCommit = "sqlite.import-messages.after-commit";

    // ReplaceSession: a restore's one transaction for a whole session (delete, insert, every archived message).

    /// <summary>The replacement's transaction has not begun; the old session is whole.</summary>
    public const string ReplaceBeforeBegin = "sqlite.replace.before-begin";

    /// <summary>The old rows are deleted and every archived row inserted, not committed: the old session is still the stored one.</summary>
    public const string ReplaceBeforeCommit = "sqlite.replace.before-commit";

    /// <summary>The new session is committed; the caller has not been answered.</summary>
    public const string ReplaceAfterCommit = "sqlite.replace.after-commit";

    // MarkRead: one transaction (the session's head checked, then the cursor raised).

    /// <summary>The mark has not begun its transaction.</summary>
    public const string MarkReadBeforeBegin = "sqlite.mark-read.before-begin";

    /// <summary>The cursor is raised in the open transaction, not committed.</summary>
    public const string MarkReadBeforeCommit = "sqlite.mark-read.before-commit";

    /// <summary>The mark is committed; the caller has not been answered.</summary>
    public const string MarkReadAfterCommit = "sqlite.mark-read.after-commit";

    // Closing: the last connection to close checkpoints the WAL into the database file (the only checkpoint the store
    // causes itself; SQLite's automatic checkpoint runs inside a COMMIT, between a before-commit and its after-commit).

    /// <summary>Disposing: no connection is closed yet, the WAL holds commits not yet checkpointed.</summary>
    public const string CloseBeforeCheckpoint = "sqlite.close.before-checkpoint";

    /// <summary>Every connection is closed (the last one checkpointed the WAL into the file).</summary>
    public const string CloseAfterCheckpoint = "sqlite.close.after-checkpoint";
}

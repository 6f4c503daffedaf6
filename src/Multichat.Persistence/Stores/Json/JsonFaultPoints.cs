namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The named steps of the Json store's write paths, reached through <see cref="Internal.FaultInjection"/> by the
/// fault-injection tests (a throw at a "before" point: the step did not happen; at an "after" point: it happened, the
/// caller sees a failure). Each comment says what is on disk when the point is reached. See docs/storage/json.md,
/// "Injected faults".
/// </summary>
internal static class JsonFaultPoints
{
    // messages.jsonl: append, batch, import of messages.

    /// <summary>The lines are encoded and the id table has room for them; nothing of them is in the file.</summary>
    public const string LogBeforeWrite = "json.log.before-write";

    /// <summary>The lines are in the file (page cache), not flushed, not in the id table; the instance's length is not advanced.</summary>
    public const string LogAfterWrite = "json.log.after-write";

    /// <summary>Durability.Full only: the lines are on the disk (fsync); not in the id table yet.</summary>
    public const string LogAfterFlush = "json.log.after-flush";

    /// <summary>The lines' slots and Highest are in the (mapped) id table; IndexedThrough and the instance's length not advanced.</summary>
    public const string LogAfterIndex = "json.log.after-index";

    /// <summary>Catch-up found bytes past the last committed line and kept them in <c>.damaged</c>; the log is not cut yet.</summary>
    public const string LogBeforeTruncate = "json.log.before-truncate";

    /// <summary>The log is cut back to its last committed line; the instance has not recorded the new length.</summary>
    public const string LogAfterTruncate = "json.log.after-truncate";

    // messages.jsonl.damaged: the bytes a catch-up sets aside.

    /// <summary>Bytes past the last committed line were read; nothing appended to <c>messages.jsonl.damaged</c>.</summary>
    public const string DamagedBeforeWrite = "json.damaged.before-write";

    /// <summary>The bytes are appended to <c>messages.jsonl.damaged</c>, not flushed; the log still holds them.</summary>
    public const string DamagedAfterWrite = "json.damaged.after-write";

    /// <summary>The aside file is flushed (fsynced with Durability.Full); the log still holds the bytes.</summary>
    public const string DamagedAfterFlush = "json.damaged.after-flush";

    // session.json: create, update, import, trim, and the records that keep issued sequences (gaps, lost lines).

    /// <summary>The new record is serialized; nothing written, <c>session.json</c> as before.</summary>
    public const string DocumentBeforeWrite = "json.document.before-write";

    /// <summary><c>session.json.tmp</c> holds the new record, not flushed; <c>session.json</c> unchanged.</summary>
    public const string DocumentAfterWrite = "json.document.after-write";

    /// <summary><c>session.json.tmp</c> is flushed (fsynced with Durability.Full); not renamed.</summary>
    public const string DocumentAfterFlush = "json.document.after-flush";

    /// <summary><c>session.json</c> is the new record; the instance has not taken it as its state.</summary>
    public const string DocumentAfterRename = "json.document.after-rename";

    // reads.json: a mark that moves a cursor.

    /// <summary>The new cursors are serialized; nothing written, <c>reads.json</c> as before.</summary>
    public const string ReadsBeforeWrite = "json.reads.before-write";

    /// <summary><c>reads.json.tmp</c> holds the new cursors, not flushed; <c>reads.json</c> unchanged.</summary>
    public const string ReadsAfterWrite = "json.reads.after-write";

    /// <summary><c>reads.json.tmp</c> is flushed (fsynced with Durability.Full); not renamed.</summary>
    public const string ReadsAfterFlush = "json.reads.after-flush";

    /// <summary><c>reads.json</c> holds the new cursors; the instance has not taken them as its state.</summary>
    public const string ReadsAfterRename = "json.reads.after-rename";

    // messages.jsonl compaction (trim): the record with the new floor and incarnation is already written.

    /// <summary>The record hides the trimmed lines; <c>messages.jsonl</c> unchanged, no temp file.</summary>
    public const string CompactBeforeCopy = "json.compact.before-copy";

    /// <summary><c>messages.jsonl.tmp</c> holds the kept lines, not flushed; <c>messages.jsonl</c> unchanged.</summary>
    public const string CompactAfterCopy = "json.compact.after-copy";

    /// <summary><c>messages.jsonl.tmp</c> is flushed (fsynced with Durability.Full); not renamed.</summary>
    public const string CompactAfterFlush = "json.compact.after-flush";

    /// <summary><c>messages.jsonl</c> holds only the kept lines; the id table of the old file is not deleted yet.</summary>
    public const string CompactAfterRename = "json.compact.after-rename";

    // ids.idx: a new table (growth past 75 % load, or a rebuild), and its deletion.

    /// <summary>A new table is needed; nothing created, the old table (if any) in place and open.</summary>
    public const string IdsBeforeCreate = "json.ids.before-create";

    /// <summary><c>ids.idx.tmp</c> is preallocated and mapped, still empty; the old table untouched.</summary>
    public const string IdsAfterCreate = "json.ids.after-create";

    /// <summary>The new table is filled at <c>ids.idx.tmp</c>; the old one is marked superseded and closed, still at <c>ids.idx</c>.</summary>
    public const string IdsBeforeRename = "json.ids.before-rename";

    /// <summary><c>ids.idx</c> is the new table; the instance has not switched to it.</summary>
    public const string IdsAfterRename = "json.ids.after-rename";

    /// <summary>The table is closed; <c>ids.idx</c> not deleted yet.</summary>
    public const string IdsBeforeDelete = "json.ids.before-delete";

    /// <summary><c>ids.idx</c> is deleted.</summary>
    public const string IdsAfterDelete = "json.ids.after-delete";

    // Checkpoint of ids.idx, under the lock just before it is let go (Durability.Full, and at dispose).

    /// <summary>The table has lines indexed since its last checkpoint; nothing flushed.</summary>
    public const string CheckpointBeforeFlushLog = "json.checkpoint.before-flush-log";

    /// <summary>Durability.Normal: <c>messages.jsonl</c> is fsynced; the table not yet.</summary>
    public const string CheckpointAfterFlushLog = "json.checkpoint.after-flush-log";

    /// <summary>The table is flushed (msync); SyncedThrough not advanced.</summary>
    public const string CheckpointAfterFlushTable = "json.checkpoint.after-flush-table";

    // Delete: the record first, then the files; the folder and its lock file stay.

    /// <summary>Nothing deleted.</summary>
    public const string DeleteBeforeRecord = "json.delete.before-record";

    /// <summary><c>session.json</c> is deleted (the session is gone); its messages and id table remain.</summary>
    public const string DeleteAfterRecord = "json.delete.after-record";

    /// <summary><c>messages.jsonl</c> is deleted too.</summary>
    public const string DeleteAfterMessages = "json.delete.after-messages";

    /// <summary><c>messages.jsonl.damaged</c> is deleted too (or was absent); the id table remains.</summary>
    public const string DeleteAfterDamaged = "json.delete.after-damaged";

    // Reset: a create, or an import of the session record, clears the folder before it writes the new record.

    /// <summary>Nothing changed in the folder.</summary>
    public const string ResetBeforeDeleteRecord = "json.reset.before-delete-record";

    /// <summary>The replaced session's <c>session.json</c> (if any) is deleted: the session is absent; its messages and id table remain.</summary>
    public const string ResetAfterDeleteRecord = "json.reset.after-delete-record";

    /// <summary><c>messages.jsonl</c> of the replaced session is deleted too; its id table remains.</summary>
    public const string ResetAfterDeleteMessages = "json.reset.after-delete-messages";

    // sessions.count: the count behind MaxSessions (a create raises it first, a delete lowers it after).

    /// <summary>The count lock is held and the new record computed; the file unchanged.</summary>
    public const string CountBeforeWrite = "json.count.before-write";

    /// <summary>The file holds the new count (never fsynced: see <see cref="JsonSessionCount"/>).</summary>
    public const string CountAfterWrite = "json.count.after-write";
}

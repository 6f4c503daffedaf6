using Multichat.Persistence.Backup;
using Multichat.Persistence.Internal;
using static Multichat.Persistence.Stores.Sqlite.SqliteSessionRows;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// Replacing one whole session for a restore, inside the one write transaction of
/// <see cref="SqliteDatabase.WriteStreamingAsync"/>: the old session's rows are deleted as a delete does, the archived
/// session is inserted as an import does, and its messages are inserted as the archive streams them. Nothing of it is
/// visible before the commit, and a failure, a cancellation or a kill before the commit leaves the old session as it was.
/// A guarded replacement (re-encryption) first checks the stored session in that same transaction: the writer holds the
/// database's write lock from <c>BEGIN IMMEDIATE</c> on, so nothing can change it between the check and the commit.
/// </summary>
internal static class SqliteSessionReplacement
{
    /// <param name="lease">The writer connection, inside its transaction.</param>
    /// <param name="record">The session as an import keeps it (see <see cref="SessionRecords.Imported"/>).</param>
    /// <param name="batches">Its messages, ascending; read once, one batch in memory at a time.</param>
    /// <param name="expected">When set, what the stored session must still be; else the transaction is rolled back
    /// with <see cref="ConcurrencyConflictException"/> before anything is written or any batch is read.</param>
    /// <param name="cancellationToken">Checked between batches (a running statement is interrupted by the caller).</param>
    public static async Task ReplaceAsync(
        SqliteConnectionLease lease,
        ChatSession record,
        IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches,
        ReplacementExpectation? expected,
        CancellationToken cancellationToken)
    {
        Dictionary<string, long>? cursors = null;
        long? epoch = null;
        if (expected is { } expectation)
        {
            var stored = SelectSession(lease, record.SessionId);
            if (!expectation.IsMetBy(stored))
            {
                throw expectation.Conflict(record.SessionId, stored);
            }

            // A guarded replacement (re-encryption) continues the session's life: its epoch and read cursors go on with
            // it, in this same transaction (its plain content is the same, so a cache or a watcher has nothing to redo).
            // A restore's new life starts with a new epoch and no cursors (it marks the archive's after the commit).
            cursors = SqliteReadCursors.Select(lease, record.SessionId);
            epoch = SelectCacheHead(lease, record.SessionId)?.Epoch;
        }

        // The session_count triggers see one delete and one insert; the activity and participant rows, the messages and
        // the read cursors (ON DELETE CASCADE) of the old session go with it, as in DeleteSessionAsync.
        DeleteSession(lease, record.SessionId);
        InsertSession(lease, record, epoch);
        foreach (var (participant, sequence) in cursors ?? [])
        {
            SqliteReadCursors.Mark(lease, record.SessionId, participant, sequence);
        }

        var insert = lease.GetRaw(SqliteSql.ImportMessage);
        insert.Bind(0, record.SessionId); // bindings outlive sqlite3_reset: set once for every row
        long newest = 0, count = 0;
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            ImportChecks.EnsureAscending(batch, newest);
            foreach (var message in batch)
            {
                SqliteMessageCommands.BindRow(insert, MessageRecords.Imported(message));
                insert.Execute();
            }

            if (batch.Count > 0)
            {
                newest = batch[^1].Sequence;
                count += batch.Count;
            }
        }

        if (count > 0)
        {
            // What ImportMessagesAsync writes after the same rows: the sequence never below the archived session's, the
            // count of its messages, and its own time as the activity (imported rows carry no append time).
            UpdateCounters(lease, record.SessionId, Math.Max(record.LastSequence, newest), count, record.UpdatedAt.UtcTicks);
        }
    }
}

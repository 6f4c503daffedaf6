using Multichat.Persistence.Internal;
using static Multichat.Persistence.Stores.Sqlite.SqliteSessionRows;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// Appending and trimming messages, each run inside one write transaction. An append inserts after the session's
/// head and moves its activity row; it never writes the session row (see <see cref="SqliteSessionHead"/>).
/// </summary>
internal static class SqliteMessageCommands
{
    /// <summary>
    /// Inserts the batch after the session's newest sequence and moves its activity row. Rolls back and returns
    /// <see langword="null"/> at the first id that is stored already (or repeated in the batch). Under a
    /// <see cref="MessageLimitPolicy.Reject"/> limit that the batch would pass were all of it new, the new ones are
    /// counted before anything is inserted: too many throw <see cref="QuotaExceededException"/>, and a batch that fits
    /// only because some of its ids are stored goes to the transaction with lookups.
    /// </summary>
    /// <remarks>
    /// The session row is not written: its counters and the newest message give the sequence and count (see
    /// <see cref="SqliteSessionHead"/>), so a commit writes the message's pages and one activity page.
    /// </remarks>
    public static IReadOnlyList<ChatMessage>? AppendAssumingNew(
        SqliteConnectionLease lease, (string SessionId, IReadOnlyList<ChatMessage> Messages, MessageLimit Limit, TimeProvider Clock) state)
    {
        var (sessionId, messages, limit, clock) = state;
        var head = SelectHead(lease, sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
        if (limit.Refuses(head.Count, messages.Count))
        {
            ThrowIfTooManyNew(lease, sessionId, head.Count, messages, limit);
            return RollBackToLookups(lease);
        }

        var now = clock.GetUtcNow();
        var stored = new ChatMessage[messages.Count];
        var insert = PrepareInsert(lease, sessionId, now);
        for (var i = 0; i < messages.Count; i++)
        {
            if (!TryInsert(insert, head.LastSequence + 1 + i, messages[i], now, out stored[i]))
            {
                return RollBackToLookups(lease);
            }

            lease.Faults?.Reach(SqliteFaultPoints.AppendAfterInsert);
        }

        Appended(lease, sessionId, head, head.LastSequence + messages.Count, limit, now);
        return stored;
    }

    /// <summary>
    /// Inserts what is new and returns the stored original of every id already stored. Under a
    /// <see cref="MessageLimitPolicy.Reject"/> limit the new messages are counted again before the first insert (another
    /// process may have appended since the assuming-new transaction).
    /// </summary>
    public static IReadOnlyList<ChatMessage>? AppendWithLookups(
        SqliteConnectionLease lease, (string SessionId, IReadOnlyList<ChatMessage> Messages, MessageLimit Limit, TimeProvider Clock) state)
    {
        var (sessionId, messages, limit, clock) = state;
        var head = SelectHead(lease, sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
        if (limit.Refuses(head.Count, messages.Count))
        {
            ThrowIfTooManyNew(lease, sessionId, head.Count, messages, limit);
        }

        var now = clock.GetUtcNow();
        var stored = new ChatMessage[messages.Count];
        var insert = PrepareInsert(lease, sessionId, now);
        var next = head.LastSequence;
        for (var i = 0; i < messages.Count; i++)
        {
            // The unique (session_id, id) key decides idempotency, also for an id repeated earlier in this batch.
            if (TryInsert(insert, next + 1, messages[i], now, out stored[i]))
            {
                next++;
            }
            else
            {
                stored[i] = SelectMessage(lease, sessionId, messages[i].Id);
            }

            lease.Faults?.Reach(SqliteFaultPoints.AppendAfterInsert);
        }

        if (next != head.LastSequence)
        {
            Appended(lease, sessionId, head, next, limit, now);
        }
        else
        {
            // Nothing new, so the activity stays; the limit may have been lowered since the last append.
            TrimToLimit(lease, sessionId, head.LastSequence, head.Count, limit, head.ActivityTicks);
        }

        return stored;
    }

    /// <summary>Deletes the oldest messages beyond <paramref name="keepLatest"/>; returns how many went.</summary>
    public static long Trim(SqliteConnectionLease lease, string sessionId, long keepLatest)
    {
        if (SelectHead(lease, sessionId) is not { } head || head.Count <= keepLatest)
        {
            return 0L;
        }

        var removed = DeleteOldest(lease, sessionId, head.Count - keepLatest);
        lease.Faults?.Reach(SqliteFaultPoints.TrimAfterDelete);
        UpdateCounters(lease, sessionId, head.LastSequence, head.Count - removed, head.ActivityTicks);
        lease.Faults?.Reach(SqliteFaultPoints.TrimAfterCounters);
        return removed;
    }

    /// <summary>After inserting up to <paramref name="lastSequence"/>: moves the activity, and trims to the limit.</summary>
    private static void Appended(
        SqliteConnectionLease lease, string sessionId, SqliteSessionHead head, long lastSequence, MessageLimit limit, DateTimeOffset now)
    {
        var activity = head.ActivityAfterAppend(now.UtcTicks);
        MoveActivity(lease, sessionId, head.ActivityTicks, activity);
        lease.Faults?.Reach(SqliteFaultPoints.AppendAfterActivity);
        TrimToLimit(lease, sessionId, lastSequence, head.Count + (lastSequence - head.LastSequence), limit, activity);
    }

    /// <summary>Under TrimOldest with the limit exceeded, deletes the oldest messages and writes the counters with the activity folded in.</summary>
    private static void TrimToLimit(SqliteConnectionLease lease, string sessionId, long lastSequence, long count, MessageLimit limit, long activityTicks)
    {
        if (limit.Trims && count > limit.MaxMessages)
        {
            var removed = DeleteOldest(lease, sessionId, count - limit.MaxMessages);
            lease.Faults?.Reach(SqliteFaultPoints.TrimAfterDelete);
            UpdateCounters(lease, sessionId, lastSequence, count - removed, activityTicks);
            lease.Faults?.Reach(SqliteFaultPoints.TrimAfterCounters);
        }
    }

    /// <summary>
    /// Rolls back the assuming-new transaction so the one with lookups can run. Had this rollback failed silently, the
    /// store's commit would keep the inserts before it without their activity move: fail the call instead (a retry is
    /// safe, the next write discards the transaction).
    /// </summary>
    private static IReadOnlyList<ChatMessage>? RollBackToLookups(SqliteConnectionLease lease)
    {
        if (lease.TryRollback() is { } failure)
        {
            throw failure;
        }

        lease.Faults?.Reach(SqliteFaultPoints.AppendAfterRollbackToLookups);
        return null;
    }

    /// <summary>
    /// Throws <see cref="QuotaExceededException"/> when the messages of the batch an append would store pass the limit.
    /// Runs before the first insert, so a refused append leaves its transaction empty (the caller rolls it back): nothing
    /// stored, no sequence taken, and the write lock held throughout, so no other appender passes the limit meanwhile.
    /// </summary>
    private static void ThrowIfTooManyNew(SqliteConnectionLease lease, string sessionId, long storedCount, IReadOnlyList<ChatMessage> messages, MessageLimit limit)
    {
        var fresh = CountNew(lease, sessionId, messages);
        if (limit.Refuses(storedCount, fresh))
        {
            throw QuotaExceededException.ForMessages(sessionId, storedCount, fresh, limit.MaxMessages);
        }
    }

    /// <summary>How many of <paramref name="messages"/> an append would store: ids neither stored nor repeated earlier in the batch. One seek each.</summary>
    private static int CountNew(SqliteConnectionLease lease, string sessionId, IReadOnlyList<ChatMessage> messages)
    {
        var command = lease.GetRaw(SqliteSql.MessageExists);
        command.Bind(0, sessionId);
        var seen = new HashSet<string>(messages.Count, StringComparer.Ordinal);
        var fresh = 0;
        foreach (var message in messages)
        {
            if (!seen.Add(message.Id))
            {
                continue;
            }

            command.Bind(1, message.Id);
            var stored = command.ReadFirst();
            if (stored)
            {
                command.Reset();
            }
            else
            {
                fresh++;
            }
        }

        return fresh;
    }

    /// <summary>The insert statement with what every message of one append shares: the session and the append time.</summary>
    private static SqliteRawCommand PrepareInsert(SqliteConnectionLease lease, string sessionId, DateTimeOffset now)
    {
        var insert = lease.GetRaw(SqliteSql.InsertMessage);
        insert.Bind(0, sessionId);
        insert.Bind(8, now.UtcTicks);
        return insert;
    }

    /// <summary>
    /// Binds a stored message's columns (1–7: sequence, id, sender, recipient, content, timestamp, metadata) to an insert
    /// of <see cref="SqliteSql.InsertMessage"/> or <see cref="SqliteSql.ImportMessage"/>, whose parameter 0 (the session)
    /// the caller binds once.
    /// </summary>
    public static void BindRow(SqliteRawCommand insert, ChatMessage row)
    {
        insert.Bind(1, row.Sequence);
        insert.Bind(2, row.Id);
        insert.Bind(3, row.Sender);
        insert.BindNullable(4, row.Recipient);
        insert.Bind(5, row.Content);
        insert.Bind(6, row.Timestamp.UtcTicks);
        insert.BindNullable(7, SqliteRecords.MetadataText(row.Metadata));
    }

    /// <summary>Inserts <paramref name="message"/> at <paramref name="sequence"/>; false when its id is stored already.</summary>
    private static bool TryInsert(SqliteRawCommand insert, long sequence, ChatMessage message, DateTimeOffset now, out ChatMessage stored)
    {
        var record = MessageRecords.Stored(message, sequence, now);
        BindRow(insert, record);
        insert.Execute();
        if (insert.Changes != 1)
        {
            stored = null!;
            return false;
        }

        stored = record;
        return true;
    }

    private static ChatMessage SelectMessage(SqliteConnectionLease lease, string sessionId, string id)
    {
        var command = lease.Get(SqliteSql.SelectMessageById);
        command.Parameters[0].Value = sessionId;
        command.Parameters[1].Value = id;
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? SqliteRecords.ReadMessage(reader, sessionId)
            : throw new StoreCorruptedException($"Message '{id}' of session '{sessionId}' conflicts with a stored key but cannot be read back.");
    }

    /// <summary>Deletes the <paramref name="remove"/> oldest messages of a session; returns how many went.</summary>
    private static long DeleteOldest(SqliteConnectionLease lease, string sessionId, long remove)
    {
        var command = lease.Get(SqliteSql.DeleteOldest);
        command.Parameters[0].Value = sessionId;
        command.Parameters[1].Value = remove - 1;
        return command.ExecuteNonQuery();
    }
}

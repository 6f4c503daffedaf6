using Multichat.Persistence.Internal;
using static Multichat.Persistence.Stores.Sqlite.SqliteSessionRows;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Writing sessions and messages from an archive or another store, keeping their sequences and versions.</summary>
internal static class SqliteImport
{
    /// <summary>Inserts an imported session (see <see cref="SessionRecords.Imported"/>), first deleting one with its id when asked to.</summary>
    public static bool Session(SqliteConnectionLease lease, ChatSession record, bool replaceExisting)
    {
        if (replaceExisting)
        {
            DeleteSession(lease, record.SessionId);
        }

        InsertSession(lease, record);
        return true;
    }

    /// <summary>Inserts messages with their own sequences, all above the session's newest, and writes the counters.</summary>
    public static bool Messages(SqliteConnectionLease lease, string sessionId, IReadOnlyList<ChatMessage> messages)
    {
        var head = SelectHead(lease, sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
        ImportChecks.EnsureAscending(messages, head.NewestSequence);
        var lastSequence = head.LastSequence;

        var insert = lease.Get(SqliteSql.ImportMessage);
        var p = insert.Parameters;
        p[0].Value = sessionId;
        foreach (var message in messages)
        {
            var record = MessageRecords.Imported(message);
            p[1].Value = record.Sequence;
            p[2].Value = record.Id;
            p[3].Value = record.Sender;
            p[4].Value = SqliteRecords.Nullable(record.Recipient);
            p[5].Value = record.Content;
            p[6].Value = record.Timestamp.UtcTicks;
            p[7].Value = SqliteRecords.Metadata(record.Metadata);
            insert.ExecuteNonQuery();
            lease.Faults?.Reach(SqliteFaultPoints.ImportMessagesAfterInsert);
            lastSequence = Math.Max(lastSequence, record.Sequence);
        }

        // Imported rows carry no append time: the activity they would hide goes into the session row.
        UpdateCounters(lease, sessionId, lastSequence, head.Count + messages.Count, head.ActivityTicks);
        return true;
    }
}

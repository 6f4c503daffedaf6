using Multichat.Persistence.Feed;
using static Multichat.Persistence.Stores.Sqlite.SqliteSessionRows;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>The rows of <c>read_cursors</c> (schema v6): marking one, inside a write transaction, and reading a session's.</summary>
internal static class SqliteReadCursors
{
    /// <summary>
    /// Raises the participant's cursor to <paramref name="sequence"/> unless it is higher already. Runs under the
    /// writer's <c>BEGIN IMMEDIATE</c>: the head read here is the latest commit of any process, and no append or delete
    /// lands between the check and the upsert.
    /// </summary>
    /// <returns>The cursor after the mark.</returns>
    public static long Mark(SqliteConnectionLease lease, string sessionId, string participant, long sequence)
    {
        var head = SelectHead(lease, sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
        ReadCursorChecks.EnsureAssigned(sessionId, sequence, head.LastSequence);

        var upsert = lease.GetRaw(SqliteSql.MarkRead);
        upsert.Bind(0, sessionId);
        upsert.Bind(1, participant);
        upsert.Bind(2, sequence);
        if (!upsert.ReadFirst())
        {
            throw new StoreCorruptedException($"The read cursor of session '{sessionId}' was written but not returned.");
        }

        var cursor = upsert.Int64(0);
        upsert.Reset();
        return cursor;
    }

    /// <summary>The session's cursors by participant; null when there is no such session.</summary>
    public static Dictionary<string, long>? Select(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.Get(SqliteSql.SelectReadCursors);
        command.Parameters[0].Value = sessionId;
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var cursors = new Dictionary<string, long>(StringComparer.Ordinal);
        do
        {
            if (!reader.IsDBNull(0))
            {
                cursors[reader.GetString(0)] = reader.GetInt64(1);
            }
        }
        while (reader.Read());

        return cursors;
    }
}

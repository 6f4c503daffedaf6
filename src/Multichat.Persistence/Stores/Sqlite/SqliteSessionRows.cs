using Multichat.Persistence.Caching;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// The row-level steps on a session that several commands share, each run inside the caller's transaction: its head,
/// its row and participant rows, its activity row, its counters, the session count.
/// </summary>
internal static class SqliteSessionRows
{
    public static SqliteSessionHead? SelectHead(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.GetRaw(SqliteSql.SelectHead);
        command.Bind(0, sessionId);
        if (!command.ReadFirst())
        {
            return null;
        }

        var head = new SqliteSessionHead(
            command.Int64(0), command.Int64(1), command.Int64(2), command.Int64(3), command.IsNull(4) ? null : command.Int64(4));
        command.Reset();
        return head;
    }

    /// <summary>The session's head for the read cache; null when there is no such session.</summary>
    public static SessionHead? SelectCacheHead(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.GetRaw(SqliteSql.SelectCacheHead);
        command.Bind(0, sessionId);
        if (!command.ReadFirst())
        {
            return null;
        }

        var head = new SessionHead(command.Int64(0), command.Int64(1), command.Int64(2), command.Int64(3));
        command.Reset();
        return head;
    }

    public static ChatSession? SelectSession(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.Get(SqliteSql.SelectSession);
        command.Parameters[0].Value = sessionId;
        using var reader = command.ExecuteReader();
        return reader.Read() ? SqliteRecords.ReadSession(reader) : null;
    }

    public static bool SessionExists(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.Get(SqliteSql.SessionExists);
        command.Parameters[0].Value = sessionId;
        return command.ExecuteScalar() is not null;
    }

    /// <summary>The sessions the store holds, from the row the schema's triggers keep: one seek, whatever the count.</summary>
    public static long SessionCount(SqliteConnectionLease lease)
    {
        var command = lease.GetRaw(SqliteSql.SelectSessionCount);
        if (!command.ReadFirst())
        {
            // Deleted by hand: count once and put it back, inside this same transaction.
            lease.GetRaw(SqliteSql.RestoreSessionCount).Execute();
            if (!command.ReadFirst())
            {
                throw new StoreCorruptedException("The session_count row of the Sqlite store cannot be restored.");
            }
        }

        var count = command.Int64(0);
        command.Reset();
        return count;
    }

    /// <summary>
    /// Writes a new session: its row (a new life, so a new epoch, unless <paramref name="epoch"/> continues one), its
    /// participant rows and its activity row. Throws when the id is taken.
    /// </summary>
    public static void InsertSession(SqliteConnectionLease lease, ChatSession record, long? epoch = null)
    {
        var command = lease.Get(SqliteSql.InsertSession);
        var p = command.Parameters;
        p[0].Value = record.SessionId;
        p[1].Value = SqliteRecords.Participants(record.Participants);
        p[2].Value = SqliteRecords.Nullable(record.Title);
        p[3].Value = SqliteRecords.Metadata(record.Metadata);
        p[4].Value = record.CreatedAt.UtcTicks;
        p[5].Value = record.UpdatedAt.UtcTicks;
        p[6].Value = record.Version;
        p[7].Value = record.LastSequence;
        p[8].Value = epoch ?? SessionEpoch.New();
        if (command.ExecuteNonQuery() != 1)
        {
            throw SessionAlreadyExistsException.ForSession(record.SessionId);
        }

        lease.Faults?.Reach(SqliteFaultPoints.SessionAfterInsert);
        InsertParticipants(lease, record.SessionId, record.Participants);
        lease.Faults?.Reach(SqliteFaultPoints.SessionAfterParticipants);
        InsertActivity(lease, record.SessionId, record.UpdatedAt.UtcTicks);
    }

    public static void InsertParticipants(SqliteConnectionLease lease, string sessionId, IReadOnlyList<string> participants)
    {
        var command = lease.Get(SqliteSql.InsertParticipant);
        var p = command.Parameters;
        p[0].Value = sessionId;
        for (var i = 0; i < participants.Count; i++)
        {
            p[1].Value = i;
            p[2].Value = participants[i];
            command.ExecuteNonQuery();
        }
    }

    public static bool DeleteSession(SqliteConnectionLease lease, string sessionId)
    {
        if (SelectHead(lease, sessionId) is not { } head)
        {
            return false;
        }

        if (!DeleteActivityRow(lease, sessionId, head.ActivityTicks))
        {
            DeleteAllActivity(lease, sessionId);
        }

        lease.Faults?.Reach(SqliteFaultPoints.DeleteAfterActivity);

        // Its messages and participant rows go with it (ON DELETE CASCADE; foreign_keys is on for every connection).
        var command = lease.Get(SqliteSql.DeleteSession);
        command.Parameters[0].Value = sessionId;
        var deleted = command.ExecuteNonQuery() == 1;
        lease.Faults?.Reach(SqliteFaultPoints.DeleteAfterSession);
        return deleted;
    }

    /// <summary>The first key of <c>session_activity</c>: the session listed last. Null when the table is empty.</summary>
    public static (long ActivityTicks, string SessionId)? SelectLeastRecentlyActive(SqliteConnectionLease lease)
    {
        using var reader = lease.Get(SqliteSql.SelectLeastRecentlyActive).ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : null;
    }

    /// <summary>Deletes one activity row by its key; false when there is no such row.</summary>
    public static bool DeleteActivityRow(SqliteConnectionLease lease, string sessionId, long activityTicks)
    {
        var command = lease.Get(SqliteSql.DeleteActivity);
        command.Parameters[0].Value = sessionId;
        command.Parameters[1].Value = activityTicks;
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Gives each session lacking one its activity row and sets the count row to the real count: scans, for repairs only.</summary>
    public static void RestoreActivityAndCount(SqliteConnectionLease lease)
    {
        lease.Get(SqliteSql.RestoreMissingActivity).ExecuteNonQuery();
        lease.Get(SqliteSql.RecountSessions).ExecuteNonQuery();
    }

    public static void InsertActivity(SqliteConnectionLease lease, string sessionId, long activityTicks)
    {
        var command = lease.GetRaw(SqliteSql.InsertActivity);
        command.Bind(0, sessionId);
        command.Bind(1, activityTicks);
        command.Execute();
    }

    /// <summary>Moves the session's activity row; the key comes from the session's own data, so it is found by one seek.</summary>
    public static void MoveActivity(SqliteConnectionLease lease, string sessionId, long fromTicks, long toTicks)
    {
        if (fromTicks == toTicks)
        {
            return;
        }

        var command = lease.GetRaw(SqliteSql.MoveActivity);
        command.Bind(0, sessionId);
        command.Bind(1, fromTicks);
        command.Bind(2, toTicks);
        command.Execute();
        if (command.Changes != 1)
        {
            // Not where the session's data says (a hand edit): replace whatever row the session has, so it lists once.
            DeleteAllActivity(lease, sessionId);
            InsertActivity(lease, sessionId, toTicks);
        }
    }

    public static void DeleteAllActivity(SqliteConnectionLease lease, string sessionId)
    {
        var command = lease.Get(SqliteSql.DeleteActivityOfSession);
        command.Parameters[0].Value = sessionId;
        command.ExecuteNonQuery();
    }

    public static void UpdateCounters(SqliteConnectionLease lease, string sessionId, long lastSequence, long count, long activityTicks)
    {
        var update = lease.Get(SqliteSql.UpdateCounters);
        update.Parameters[0].Value = sessionId;
        update.Parameters[1].Value = lastSequence;
        update.Parameters[2].Value = count;
        update.Parameters[3].Value = activityTicks;
        update.ExecuteNonQuery();
    }
}

using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// The reads of the store, each run on a pooled reader connection: pages of messages and sessions (range walks of an
/// index, never a scan of a history), session ids, health and statistics.
/// </summary>
internal static class SqliteQueries
{
    /// <summary>One page of sessions, newest activity first, resuming after <paramref name="cursor"/>.</summary>
    public static SessionPage Sessions(SqliteConnectionLease lease, SessionQuery query, SessionCursor? cursor)
    {
        var command = lease.Get(SqliteSql.SessionPage(
            query.Participant is not null, cursor is not null, query.UpdatedAfter is not null, query.UpdatedBefore is not null));
        var p = command.Parameters;
        var i = 0;
        if (query.Participant is { } participant)
        {
            p[i++].Value = participant;
        }

        if (cursor is { } after)
        {
            p[i++].Value = after.UpdatedAtUtcTicks;
            p[i++].Value = after.SessionId;
        }

        if (query.UpdatedAfter is { } updatedAfter)
        {
            p[i++].Value = updatedAfter.UtcTicks;
        }

        if (query.UpdatedBefore is { } updatedBefore)
        {
            p[i++].Value = updatedBefore.UtcTicks;
        }

        p[i].Value = query.Limit + 1;
        var sessions = new List<ChatSession>(Math.Min(query.Limit + 1, 64));
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                sessions.Add(SqliteRecords.ReadSession(reader));
            }
        }

        return SessionListing.ToPage(sessions, query.Limit);
    }

    /// <summary>Up to <paramref name="pageSize"/> session ids above <paramref name="after"/>, in order.</summary>
    public static List<string> SessionIds(SqliteConnectionLease lease, string after, int pageSize)
    {
        var command = lease.Get(SqliteSql.ListSessionIds);
        command.Parameters[0].Value = after;
        command.Parameters[1].Value = pageSize;
        var ids = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>One page of a session's messages.</summary>
    public static MessagePage Messages(SqliteConnectionLease lease, string sessionId, MessageQuery query)
    {
        var command = lease.Get(SqliteSql.MessagePage(
            query.Order == MessageOrder.NewestFirst, query.AfterSequence is not null, query.BeforeSequence is not null));
        var p = command.Parameters;
        var i = 0;
        p[i++].Value = sessionId;
        if (query.AfterSequence is { } after)
        {
            p[i++].Value = after;
        }

        if (query.BeforeSequence is { } before)
        {
            p[i++].Value = before;
        }

        var fetch = MessagePaging.FetchCount(query);
        p[i].Value = fetch;
        var messages = new List<ChatMessage>(Math.Min(fetch, 128));
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                messages.Add(SqliteRecords.ReadMessage(reader, sessionId));
            }
        }

        // Messages exist only under their session (foreign key), so only an empty page needs the existence check.
        if (messages.Count == 0 && !SqliteSessionRows.SessionExists(lease, sessionId))
        {
            throw SessionNotFoundException.ForSession(sessionId);
        }

        return MessagePaging.ToPage(query, messages);
    }

    /// <summary>The schema version and SQLite's; <see cref="StoreHealthStatus.Unhealthy"/> once a call met damage.</summary>
    public static HealthReport Health(SqliteConnectionLease lease, (string Name, StoreCorruptedException? Damage) state)
    {
        var (name, damage) = state;
        if (damage is not null)
        {
            return new HealthReport
            {
                Status = StoreHealthStatus.Unhealthy,
                Store = name,
                Description = $"A call of this store met damage: {damage.Message}",
                Exception = damage,
            };
        }

        using var reader = lease.Get(SqliteSql.Health).ExecuteReader();
        reader.Read();
        var version = reader.GetInt64(0);
        return new HealthReport
        {
            Status = version == SqliteSchema.CurrentVersion ? StoreHealthStatus.Healthy : StoreHealthStatus.Degraded,
            Store = name,
            Description = $"SQLite {reader.GetString(1)}, schema version {version} (this build writes {SqliteSchema.CurrentVersion}).",
        };
    }

    public static StoreStatistics Statistics(SqliteConnectionLease lease, string name)
    {
        // Counts come from the per-session counters, so this costs O(sessions), not O(messages).
        using var reader = lease.Get(SqliteSql.Statistics).ExecuteReader();
        reader.Read();
        return new StoreStatistics
        {
            Store = name,
            SessionCount = reader.GetInt64(0),
            MessageCount = reader.GetInt64(1),
            StorageBytes = reader.GetInt64(2),
        };
    }
}

using Multichat.Persistence.Internal;
using static Multichat.Persistence.Stores.Sqlite.SqliteSessionRows;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Creating, updating and importing sessions, each run inside one write transaction.</summary>
internal static class SqliteSessionCommands
{
    /// <summary>
    /// Inserts a new session unless the store holds <paramref name="maxSessions"/> already (when above 0). The count is
    /// read under the caller's <c>BEGIN IMMEDIATE</c>: no connection, in any process, adds a session before this commits.
    /// </summary>
    public static ChatSession Create(SqliteConnectionLease lease, ChatSession record, int maxSessions)
    {
        if (maxSessions > 0)
        {
            var count = SessionCount(lease);
            lease.Faults?.Reach(SqliteFaultPoints.CreateAfterCount);
            if (count >= maxSessions)
            {
                // A taken id is reported as such whether or not the store is full (as the other stores do).
                throw SessionExists(lease, record.SessionId)
                    ? SessionAlreadyExistsException.ForSession(record.SessionId)
                    : QuotaExceededException.ForSessions(maxSessions);
            }
        }

        InsertSession(lease, record);
        return record;
    }

    /// <summary>Writes the caller's fields over the stored session when its version matches; the version goes up by one.</summary>
    public static ChatSession Update(SqliteConnectionLease lease, ChatSession session, TimeProvider clock)
    {
        var stored = SelectSession(lease, session.SessionId) ?? throw SessionNotFoundException.ForSession(session.SessionId);
        if (stored.Version != session.Version)
        {
            throw ConcurrencyConflictException.ForSession(session.SessionId, session.Version, stored.Version);
        }

        var head = SelectHead(lease, session.SessionId)!.Value;
        var now = clock.GetUtcNow().UtcTicks;
        var activity = (head with { RowUpdatedTicks = now }).ActivityTicks;
        var updated = stored with
        {
            Participants = [.. session.Participants],
            Title = session.Title,
            Metadata = MetadataCopy.Of(session.Metadata),
            Version = stored.Version + 1,
            UpdatedAt = SqliteRecords.FromTicks(activity),
        };
        var command = lease.Get(SqliteSql.UpdateSession);
        var p = command.Parameters;
        p[0].Value = updated.SessionId;
        p[1].Value = SqliteRecords.Participants(updated.Participants);
        p[2].Value = SqliteRecords.Nullable(updated.Title);
        p[3].Value = SqliteRecords.Metadata(updated.Metadata);
        p[4].Value = updated.Version;
        p[5].Value = now;
        command.ExecuteNonQuery();
        lease.Faults?.Reach(SqliteFaultPoints.UpdateAfterRow);
        MoveActivity(lease, updated.SessionId, head.ActivityTicks, activity);
        lease.Faults?.Reach(SqliteFaultPoints.UpdateAfterActivity);

        var delete = lease.Get(SqliteSql.DeleteParticipants);
        delete.Parameters[0].Value = updated.SessionId;
        delete.ExecuteNonQuery();
        lease.Faults?.Reach(SqliteFaultPoints.UpdateAfterDeleteParticipants);
        InsertParticipants(lease, updated.SessionId, updated.Participants);
        return updated;
    }
}

using Multichat.Persistence.Internal;
using static Multichat.Persistence.Stores.Sqlite.SqliteSessionRows;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Creating, updating and importing sessions, each run inside one write transaction.</summary>
internal static class SqliteSessionCommands
{
    /// <summary>
    /// Inserts a new session. Under a <paramref name="limit"/>, the count is read under the caller's <c>BEGIN IMMEDIATE</c>:
    /// no connection, in any process, adds or removes a session before this commits. A full store refuses the create
    /// (<see cref="SessionLimitPolicy.Reject"/>) or first deletes its least recently active sessions until there is
    /// room (<see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/>), all in this one transaction; the caller reports
    /// the evicted ids once it committed.
    /// </summary>
    public static (ChatSession Created, IReadOnlyList<string> Evicted) Create(SqliteConnectionLease lease, ChatSession record, SessionLimit limit)
    {
        IReadOnlyList<string> evicted = [];
        if (limit.IsLimited)
        {
            var count = SessionCount(lease);
            lease.Faults?.Reach(SqliteFaultPoints.CreateAfterCount);
            if (count >= limit.MaxSessions)
            {
                // A taken id is reported as such whether or not the store is full (as the other stores do), and
                // before anything is evicted for it.
                if (SessionExists(lease, record.SessionId))
                {
                    throw SessionAlreadyExistsException.ForSession(record.SessionId);
                }

                if (!limit.Evicts)
                {
                    throw QuotaExceededException.ForSessions(limit.MaxSessions);
                }

                evicted = EvictUntilBelow(lease, limit.MaxSessions, count);
            }
        }

        InsertSession(lease, record);
        return (record, evicted);
    }

    /// <summary>
    /// Deletes the session <c>ListSessionsAsync</c> lists last, with its messages, participant and activity rows, until
    /// fewer than <paramref name="maxSessions"/> remain. Each victim is one seek of <c>session_activity</c>, whatever
    /// the number of sessions or the length of their histories.
    /// </summary>
    private static List<string> EvictUntilBelow(SqliteConnectionLease lease, int maxSessions, long count)
    {
        var evicted = new List<string>(1);
        var repaired = false;
        while (count >= maxSessions)
        {
            if (SelectLeastRecentlyActive(lease) is not { } victim)
            {
                // The count says full but no session has an activity row: hand edits. Put the derived rows right (a
                // scan, this once) and look again.
                if (repaired)
                {
                    throw new StoreCorruptedException(
                        $"The Sqlite store counts {count} sessions but lists none to evict. Check the file with `PRAGMA integrity_check` and the session_count and session_activity tables.");
                }

                RestoreActivityAndCount(lease);
                repaired = true;
            }
            else if (DeleteSession(lease, victim.SessionId))
            {
                evicted.Add(victim.SessionId);
                lease.Faults?.Reach(SqliteFaultPoints.CreateAfterEvict);
            }
            else
            {
                // An activity row without its session (a hand edit): it would be chosen again, so it goes.
                DeleteActivityRow(lease, victim.SessionId, victim.ActivityTicks);
            }

            count = SessionCount(lease);
        }

        return evicted;
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

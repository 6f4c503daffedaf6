namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The named steps of the Redis store's writes where the fault-injection tests fail the write or kill the process
/// (see <see cref="Internal.FaultInjection"/>). A step is one round trip: a script runs atomically on the server, so
/// there is no point inside one, only before it (it did not run) and after it (it ran; the caller sees a failure, as
/// when the answer is lost). On Redis Cluster a create, an import of a new session and a delete take three round trips
/// (lease, script, settle; see <see cref="RedisSessionLimit"/>), and an import is a session script then one script per
/// message batch, so those have points between the round trips.
/// </summary>
internal static class RedisFaultPoints
{
    /// <summary>Nothing of the append (or batch) has run.</summary>
    public const string AppendBeforeScript = "redis.append.before-script";

    /// <summary>The append script ran: messages, counters, indexes and trimming are stored; the caller has no answer.</summary>
    public const string AppendAfterScript = "redis.append.after-script";

    /// <summary>Nothing of the trim has run.</summary>
    public const string TrimBeforeScript = "redis.trim.before-script";

    /// <summary>The trim script ran: the oldest messages and their ids are gone, the counts shrank; the caller has no answer.</summary>
    public const string TrimAfterScript = "redis.trim.after-script";

    /// <summary>Nothing of the update has run.</summary>
    public const string UpdateBeforeScript = "redis.update.before-script";

    /// <summary>The update script ran (new version stored); the caller has no answer.</summary>
    public const string UpdateAfterScript = "redis.update.after-script";

    /// <summary>Cluster only: nothing of the create has run; no lease is taken.</summary>
    public const string CreateBeforeLease = "redis.create.before-lease";

    /// <summary>Cluster only: the create lease is taken (the count counts it as under way); the session is not created.</summary>
    public const string CreateAfterLease = "redis.create.after-lease";

    /// <summary>Single node: nothing has run. Cluster: the lease is taken, the create script has not run.</summary>
    public const string CreateBeforeScript = "redis.create.before-script";

    /// <summary>The create script ran (the session exists); on a cluster the lease is not settled (the count has not grown; the lease still counts it).</summary>
    public const string CreateAfterScript = "redis.create.after-script";

    /// <summary>Cluster only: the lease is settled (the count grew, the lease is gone); the caller has no answer.</summary>
    public const string CreateAfterSettle = "redis.create.after-settle";

    /// <summary>Cluster only: nothing of the delete has run; no lease is taken.</summary>
    public const string DeleteBeforeLease = "redis.delete.before-lease";

    /// <summary>Cluster only: the delete lease is taken; the session still exists.</summary>
    public const string DeleteAfterLease = "redis.delete.after-lease";

    /// <summary>Single node: nothing has run. Cluster: the delete lease is taken, the delete script has not run.</summary>
    public const string DeleteBeforeScript = "redis.delete.before-script";

    /// <summary>The delete script ran (record, messages, id map and index entries are gone); on a cluster the count has not shrunk and the lease is held.</summary>
    public const string DeleteAfterScript = "redis.delete.after-script";

    /// <summary>Cluster only: the delete lease is settled (the count shrank); the caller has no answer.</summary>
    public const string DeleteAfterSettle = "redis.delete.after-settle";

    /// <summary>Cluster only: nothing of the session import has run; no lease is taken.</summary>
    public const string ImportSessionBeforeLease = "redis.import-session.before-lease";

    /// <summary>Cluster only: the lease is taken; the session record is not written.</summary>
    public const string ImportSessionAfterLease = "redis.import-session.after-lease";

    /// <summary>Single node: nothing has run. Cluster: the lease is taken, the session script has not run.</summary>
    public const string ImportSessionBeforeScript = "redis.import-session.before-script";

    /// <summary>The imported session record is written (a replaced one lost its messages); on a cluster the lease is not settled.</summary>
    public const string ImportSessionAfterScript = "redis.import-session.after-script";

    /// <summary>Cluster only: the lease is settled; the caller has no answer.</summary>
    public const string ImportSessionAfterSettle = "redis.import-session.after-settle";

    /// <summary>Nothing of this batch of imported messages is written (earlier batches are).</summary>
    public const string ImportMessagesBeforeScript = "redis.import-messages.before-script";

    /// <summary>This batch of imported messages is written with its ids and counts; the caller has no answer.</summary>
    public const string ImportMessagesAfterScript = "redis.import-messages.after-script";
}

using System.Globalization;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Maintenance;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Creates, reads, updates and deletes session records: one script each over the session's bucket, plus on a cluster
/// the lease on the store-wide session count (see <see cref="RedisSessionLimit"/>).
/// </summary>
internal sealed class RedisSessionCommands(RedisStoreContext context)
{
    // Single node: how often an evicting create runs its script before it gives up. Each round that neither creates
    // nor refuses means another writer changed the oldest sessions meanwhile (most often: another evicting create took
    // the victims), so the store as a whole makes progress.
    private const int EvictionRounds = 32;

    // Single node: how many rounds after the first (which proposes) check that the candidates hold every older index
    // entry; later rounds evict the oldest candidates as they are (see SessionScripts.CreateEvicting).
    private const int StrictEvictionRounds = 3;

    // Cluster: how often in a row an evicting create waits (1, 2, 4, … 128 ms: 255 ms in all) for creates under way
    // to land, when the count says full and the indexes do not and nothing changes meanwhile, before it is refused.
    private const int MaxEvictionWaits = 8;

    // Cluster: the most rounds (lease attempt, then an eviction or a wait) of one evicting create.
    private const int ClusterEvictionRounds = 256;

    public async Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default)
    {
        var keys = context.Keys.For(session.SessionId);
        var now = context.Clock.GetUtcNow().UtcTicks;
        var cluster = await context.Runner.IsClusterAsync(cancellationToken).ConfigureAwait(false);
        var maxSessions = limit.MaxSessions;
        RedisValue[] values =
        [
            RedisRecordCodec.JoinParticipants(session.Participants), session.Title ?? string.Empty, session.Title is null ? "0" : "1",
            RedisRecordCodec.EncodeMetadata(session.Metadata), now, RedisRecordCodec.Score(now), keys.Base, session.SessionId,
            cluster ? 0 : maxSessions, SessionEpoch.New(),
        ];
        int outcome;
        var faults = context.Faults;
        if (!cluster && limit.Evicts)
        {
            await CreateEvictingOnNodeAsync(session.SessionId, keys, values, maxSessions, cancellationToken).ConfigureAwait(false);
            outcome = 1;
        }
        else if (!cluster)
        {
            faults?.Reach(RedisFaultPoints.CreateBeforeScript);
            outcome = (int)await context.Runner.EvaluateAsync(SessionScripts.Create, [keys.Meta, keys.Recent, .. context.Keys.LimitKeys], values, cancellationToken).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.CreateAfterScript);
        }
        else
        {
            faults?.Reach(RedisFaultPoints.CreateBeforeLease);
            var lease = limit.Evicts
                ? await ReserveEvictingAsync(session.SessionId, keys, maxSessions, cancellationToken).ConfigureAwait(false)
                : await context.Limit.ReserveCreateAsync(maxSessions, cancellationToken).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.CreateAfterLease);

            // An exception here (a timeout: the create may have happened) leaves the lease to expire, counting high.
            faults?.Reach(RedisFaultPoints.CreateBeforeScript);
            outcome = (int)await context.Runner.EvaluateAsync(SessionScripts.Create, [keys.Meta, keys.Recent], values, cancellationToken).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.CreateAfterScript);
            await context.Limit.SettleAsync(lease, outcome == 1 ? 1 : 0).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.CreateAfterSettle);
        }

        switch (outcome)
        {
            case 0:
                throw SessionAlreadyExistsException.ForSession(session.SessionId);
            case -1:
                throw QuotaExceededException.ForSessions(maxSessions);
        }

        return SessionRecords.New(session, new DateTimeOffset(now, TimeSpan.Zero));
    }

    /// <summary>
    /// Single node: the check, the evictions and the insert in one script (<see cref="SessionScripts.CreateEvicting"/>).
    /// A run at the limit that was not given the victims' keys proposes candidates, and the next run gets their keys;
    /// so a create at the limit is two round trips, one below it.
    /// </summary>
    private async Task CreateEvictingOnNodeAsync(string sessionId, SessionKeys keys, RedisValue[] values, int maxSessions, CancellationToken cancellationToken)
    {
        RedisResult[] candidates = [];
        var faults = context.Faults;
        var hintMode = await context.Runner.HintModeAsync(cancellationToken).ConfigureAwait(false);
        for (var round = 0; round < EvictionRounds; round++)
        {
            var (scriptKeys, scriptValues) = EvictingArguments(keys, values, maxSessions, hintMode, candidates, round);
            faults?.Reach(RedisFaultPoints.CreateBeforeScript);
            var answer = (RedisResult[])(await context.Runner.EvaluateAsync(SessionScripts.CreateEvicting, scriptKeys, scriptValues, cancellationToken).ConfigureAwait(false))!;
            faults?.Reach(RedisFaultPoints.CreateAfterScript);
            switch ((int)answer[0])
            {
                case 1:
                    for (var i = 1; i < answer.Length; i++)
                    {
                        SessionEvictionLog.Report(context.Logger, RedisStore.StoreName, (string)answer[i]!, sessionId, maxSessions);
                    }

                    return;
                case 0:
                    throw SessionAlreadyExistsException.ForSession(sessionId);
                default:
                    candidates = answer[2..];
                    break;
            }
        }

        throw NoRoomMade(maxSessions);
    }

    /// <summary>
    /// Cluster: takes the create lease as a Reject create does, and while the count says full, evicts the least
    /// recently active session first, through the ordinary delete (its own lease and settle), then tries again. The
    /// eviction and the create are separate steps here (no script sees both slots), so each eviction is committed and
    /// reported before the create runs; an existing id is refused before each eviction.
    /// </summary>
    /// <remarks>
    /// The count errs high on purpose (a lease of a process that stopped counts until it expires; see
    /// <see cref="RedisSessionLimit"/>). That is safe for a refusal, not for an eviction: a phantom would cost a real
    /// session. So a session is evicted only while the sessions the indexes hold reach the limit; when the count says
    /// full and the indexes do not, the difference is creates under way (waited for, briefly: they land within a round
    /// trip or two) or leases of stopped processes, and the create is refused as under Reject until those expire.
    /// </remarks>
    private async Task<RedisSessionLimit.Lease> ReserveEvictingAsync(string sessionId, SessionKeys keys, int maxSessions, CancellationToken cancellationToken)
    {
        var victims = new RedisLeastRecentlyActive(context);
        var waits = 0;
        (string? Victim, long Indexed) waitedOn = default;
        for (var round = 0; round < ClusterEvictionRounds; round++)
        {
            if (await context.Limit.TryReserveCreateAsync(maxSessions, cancellationToken).ConfigureAwait(false) is { } lease)
            {
                return lease;
            }

            if (await context.Runner.RunAsync(db => db.KeyExistsAsync(keys.Meta), cancellationToken).ConfigureAwait(false))
            {
                throw SessionAlreadyExistsException.ForSession(sessionId);
            }

            var found = await victims.FindAsync(cancellationToken).ConfigureAwait(false);
            if (found.RemovedStale)
            {
                continue; // index entries of sessions that are gone counted in the recount: recount without them first
            }

            if (found.Indexed < maxSessions || found.Victim is null)
            {
                // Creates under way land and other creates evict: while that changes what is seen, waiting is
                // worthwhile; a count held full by leases of stopped processes changes nothing.
                if ((found.Victim, found.Indexed) != waitedOn)
                {
                    (waitedOn, waits) = ((found.Victim, found.Indexed), 0);
                }

                if (waits == MaxEvictionWaits)
                {
                    throw HeldFull(maxSessions, found.Indexed);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(1 << waits++), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (await DeleteSessionAsync(found.Victim, cancellationToken).ConfigureAwait(false))
            {
                SessionEvictionLog.Report(context.Logger, RedisStore.StoreName, found.Victim, sessionId, maxSessions);
            }
        }

        throw NoRoomMade(maxSessions);
    }

    // The evicting create's KEYS and ARGV (see SessionScripts.CreateEvicting): the create's, its epoch, the feed hint's
    // mode, then per candidate its bucket and id, and its record, messages, id map and bucket statistics.
    private (RedisKey[] Keys, RedisValue[] Values) EvictingArguments(
        SessionKeys keys, RedisValue[] values, int maxSessions, RedisValue hintMode, RedisResult[] candidates, int round)
    {
        var limitKeys = context.Keys.LimitKeys;
        var pairs = candidates.Length / 2;
        var scriptKeys = new RedisKey[2 + limitKeys.Length + (4 * pairs)];
        scriptKeys[0] = keys.Meta;
        scriptKeys[1] = keys.Recent;
        limitKeys.CopyTo(scriptKeys.AsSpan(2));
        var scriptValues = new RedisValue[14 + (2 * pairs)];
        values.AsSpan(0, 8).CopyTo(scriptValues);
        scriptValues[8] = maxSessions;
        scriptValues[9] = RedisKeys.BucketCount;

        // Spare candidates absorb concurrent evicting creates taking the same oldest sessions; more each round.
        scriptValues[10] = Math.Min(2 << round, 256);
        scriptValues[11] = round <= StrictEvictionRounds ? "1" : "0";
        scriptValues[12] = values[9]; // the epoch: one per create, whichever round inserts
        scriptValues[13] = hintMode;
        for (var i = 0; i < pairs; i++)
        {
            var bucket = (int)candidates[2 * i];
            var id = (string)candidates[(2 * i) + 1]!;
            var victim = new SessionKeys(context.Keys.Base(bucket), id, context.Keys.Recent(bucket), context.Keys.Stats(bucket));
            var at = 2 + limitKeys.Length + (4 * i);
            (scriptKeys[at], scriptKeys[at + 1], scriptKeys[at + 2], scriptKeys[at + 3]) = (victim.Meta, victim.Messages, victim.Ids, victim.Stats);
            scriptValues[14 + (2 * i)] = bucket;
            scriptValues[15 + (2 * i)] = id;
        }

        return (scriptKeys, scriptValues);
    }

    private static QuotaExceededException HeldFull(int maxSessions, long indexed) => new(string.Create(
        CultureInfo.InvariantCulture,
        $"The store's session count is at the MaxSessions limit of {maxSessions}, but only {indexed} sessions exist: the rest are creates under way, or leases of creates and deletes that stopped midway (a crash, a timeout), which count until they expire. Nothing was evicted for them. Retry the create; such leases expire after the lease time (10 × (connect timeout + operation timeout), at least 1 minute)."));

    private static QuotaExceededException NoRoomMade(int maxSessions) => new(
        $"The store holds {maxSessions} sessions, the MaxSessions limit, and no room could be made by evicting the least recently active: other writers kept changing the oldest sessions, or they are damaged. Retry the create, or delete sessions.");

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) => ReadAsync(context, sessionId, cancellationToken);

    /// <summary>Reads a session record (the message commands check a session's existence with it too); from the primary
    /// unless <paramref name="flags"/> prefer a replica (see <see cref="RedisReplicaReads"/>).</summary>
    public static async Task<ChatSession?> ReadAsync(RedisStoreContext context, string sessionId, CancellationToken cancellationToken, CommandFlags flags = CommandFlags.None)
    {
        var keys = context.Keys.For(sessionId);
        var fields = await context.Runner.RunAsync(db => db.HashGetAsync(keys.Meta, RedisRecordCodec.SessionFields, flags), cancellationToken).ConfigureAwait(false);
        // Gone only when no field is there: a record that lost its participants is damaged, not absent.
        if (Array.TrueForAll(fields, f => f.IsNull))
        {
            return null;
        }

        return RedisRecordCodec.DecodeSession(sessionId, [.. fields.Select(f => RedisResult.Create(f))], 0);
    }

    public async Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        var keys = context.Keys.For(session.SessionId);
        var now = context.Clock.GetUtcNow().UtcTicks;
        context.Faults?.Reach(RedisFaultPoints.UpdateBeforeScript);
        var result = (RedisResult[])(await context.Runner.EvaluateAsync(
            SessionScripts.Update,
            [keys.Meta, keys.Recent],
            [
                session.Version, RedisRecordCodec.JoinParticipants(session.Participants), session.Title ?? string.Empty,
                session.Title is null ? "0" : "1", RedisRecordCodec.EncodeMetadata(session.Metadata), now, RedisRecordCodec.Score(now),
                keys.Base, session.SessionId,
            ],
            cancellationToken).ConfigureAwait(false))!;
        context.Faults?.Reach(RedisFaultPoints.UpdateAfterScript);
        return (int)result[0] switch
        {
            1 => RedisRecordCodec.DecodeSession(session.SessionId, result, 1),
            -1 => throw SessionNotFoundException.ForSession(session.SessionId),
            _ => throw ConcurrencyConflictException.ForSession(
                session.SessionId, session.Version, long.Parse((string)result[1]!, CultureInfo.InvariantCulture)),
        };
    }

    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var keys = context.Keys.For(sessionId);
        var faults = context.Faults;
        RedisValue[] values = [keys.Base, sessionId, await context.Runner.HintModeAsync(cancellationToken).ConfigureAwait(false)];
        if (!await context.Runner.IsClusterAsync(cancellationToken).ConfigureAwait(false))
        {
            faults?.Reach(RedisFaultPoints.DeleteBeforeScript);
            var result = await context.Runner.EvaluateAsync(
                SessionScripts.Delete, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats, context.Keys.SessionCount], values, cancellationToken)
                .ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.DeleteAfterScript);
            return (int)result == 1;
        }

        faults?.Reach(RedisFaultPoints.DeleteBeforeLease);
        var lease = await context.Limit.ReserveDeleteAsync(cancellationToken).ConfigureAwait(false);
        faults?.Reach(RedisFaultPoints.DeleteAfterLease);
        faults?.Reach(RedisFaultPoints.DeleteBeforeScript);
        var deleted = (int)await context.Runner.EvaluateAsync(SessionScripts.Delete, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats], values, cancellationToken)
            .ConfigureAwait(false) == 1;
        faults?.Reach(RedisFaultPoints.DeleteAfterScript);
        await context.Limit.SettleAsync(lease, deleted ? -1 : 0).ConfigureAwait(false);
        faults?.Reach(RedisFaultPoints.DeleteAfterSettle);
        return deleted;
    }

    public async Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default)
    {
        var record = SessionRecords.Imported(session);
        var keys = context.Keys.For(record.SessionId);
        var updated = record.UpdatedAt.UtcTicks;
        RedisValue[] values =
        [
            replaceExisting ? "1" : "0", RedisRecordCodec.JoinParticipants(record.Participants), record.Title ?? string.Empty,
            record.Title is null ? "0" : "1", RedisRecordCodec.EncodeMetadata(record.Metadata), record.CreatedAt.UtcTicks, updated,
            record.Version, record.LastSequence, RedisRecordCodec.Score(updated), keys.Base, record.SessionId, SessionEpoch.New(),
            await context.Runner.HintModeAsync(cancellationToken).ConfigureAwait(false),
        ];
        int outcome;
        var faults = context.Faults;
        if (!await context.Runner.IsClusterAsync(cancellationToken).ConfigureAwait(false))
        {
            faults?.Reach(RedisFaultPoints.ImportSessionBeforeScript);
            outcome = (int)await context.Runner.EvaluateAsync(
                SessionScripts.ImportSession, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats, context.Keys.SessionCount], values, cancellationToken).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.ImportSessionAfterScript);
        }
        else
        {
            faults?.Reach(RedisFaultPoints.ImportSessionBeforeLease);
            var lease = await context.Limit.ReserveCreateAsync(0, cancellationToken).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.ImportSessionAfterLease);
            faults?.Reach(RedisFaultPoints.ImportSessionBeforeScript);
            outcome = (int)await context.Runner.EvaluateAsync(SessionScripts.ImportSession, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats], values, cancellationToken)
                .ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.ImportSessionAfterScript);
            await context.Limit.SettleAsync(lease, outcome == 1 ? 1 : 0).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.ImportSessionAfterSettle);
        }

        if (outcome == 0)
        {
            throw SessionAlreadyExistsException.ForSession(session.SessionId);
        }
    }
}

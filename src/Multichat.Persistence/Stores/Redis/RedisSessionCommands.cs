using System.Globalization;
using Multichat.Persistence.Internal;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Creates, reads, updates and deletes session records: one script each over the session's bucket, plus on a cluster
/// the lease on the store-wide session count (see <see cref="RedisSessionLimit"/>).
/// </summary>
internal sealed class RedisSessionCommands(RedisStoreContext context)
{
    public async Task<ChatSession> CreateSessionAsync(ChatSession session, int maxSessions, CancellationToken cancellationToken = default)
    {
        var keys = context.Keys.For(session.SessionId);
        var now = context.Clock.GetUtcNow().UtcTicks;
        var cluster = await context.Runner.IsClusterAsync(cancellationToken).ConfigureAwait(false);
        RedisValue[] values =
        [
            RedisRecordCodec.JoinParticipants(session.Participants), session.Title ?? string.Empty, session.Title is null ? "0" : "1",
            RedisRecordCodec.EncodeMetadata(session.Metadata), now, RedisRecordCodec.Score(now), keys.Base, session.SessionId,
            cluster ? 0 : Math.Max(maxSessions, 0),
        ];
        int outcome;
        var faults = context.Faults;
        if (!cluster)
        {
            faults?.Reach(RedisFaultPoints.CreateBeforeScript);
            outcome = (int)await context.Runner.EvaluateAsync(SessionScripts.Create, [keys.Meta, keys.Recent, .. context.Keys.LimitKeys], values, cancellationToken).ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.CreateAfterScript);
        }
        else
        {
            faults?.Reach(RedisFaultPoints.CreateBeforeLease);
            var lease = await context.Limit.ReserveCreateAsync(maxSessions, cancellationToken).ConfigureAwait(false);
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

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) => ReadAsync(context, sessionId, cancellationToken);

    /// <summary>Reads a session record (the message commands check a session's existence with it too).</summary>
    public static async Task<ChatSession?> ReadAsync(RedisStoreContext context, string sessionId, CancellationToken cancellationToken)
    {
        var keys = context.Keys.For(sessionId);
        var fields = await context.Runner.RunAsync(db => db.HashGetAsync(keys.Meta, RedisRecordCodec.SessionFields), cancellationToken).ConfigureAwait(false);
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
        if (!await context.Runner.IsClusterAsync(cancellationToken).ConfigureAwait(false))
        {
            faults?.Reach(RedisFaultPoints.DeleteBeforeScript);
            var result = await context.Runner.EvaluateAsync(
                SessionScripts.Delete, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats, context.Keys.SessionCount], [keys.Base, sessionId], cancellationToken)
                .ConfigureAwait(false);
            faults?.Reach(RedisFaultPoints.DeleteAfterScript);
            return (int)result == 1;
        }

        faults?.Reach(RedisFaultPoints.DeleteBeforeLease);
        var lease = await context.Limit.ReserveDeleteAsync(cancellationToken).ConfigureAwait(false);
        faults?.Reach(RedisFaultPoints.DeleteAfterLease);
        faults?.Reach(RedisFaultPoints.DeleteBeforeScript);
        var deleted = (int)await context.Runner.EvaluateAsync(SessionScripts.Delete, [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats], [keys.Base, sessionId], cancellationToken)
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
            record.Version, record.LastSequence, RedisRecordCodec.Score(updated), keys.Base, record.SessionId,
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

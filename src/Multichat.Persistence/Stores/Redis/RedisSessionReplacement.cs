using System.Globalization;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Internal;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Replaces one whole session for a restore (see <see cref="Backup.ISessionReplacer"/>). The messages are staged
/// under keys of their own in the session's bucket (one hash slot, so a script may rename them on a cluster), in round
/// trips of bounded size as the batches stream in, each staged key with a time to live renewed by every round trip;
/// then one script (<see cref="ReplacementScripts.Commit"/>) checks the staged copy is whole, deletes the old session
/// and its index entries, renames the staged keys to the live names and writes the record, indexes and counts. Readers
/// see the old session until that script runs and the new one whole after it; a failure, a cancellation or a kill
/// before it leaves the old session as it was and staged keys that are removed (or expire) unseen. A guarded replacement
/// (re-encryption) has the same script check, before its first write, that the session is still as expected; if not,
/// nothing is swapped and the staged keys are removed.
/// </summary>
internal sealed class RedisSessionReplacement(RedisStoreContext context)
{
    /// <summary>How long staged keys outlive the last round trip that wrote them: far more than one round trip takes,
    /// short enough that a killed restore's leftovers go soon.</summary>
    internal static readonly TimeSpan StagingTimeToLive = TimeSpan.FromHours(1);

    // One round trip carries at most this many messages or (past the first message) this many body bytes, however
    // the archive batches them, so the script and the request stay small.
    private const int MaxMessagesPerTrip = 1000;
    private const int MaxBytesPerTrip = 4 * 1024 * 1024;

    public async Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken)
    {
        var record = SessionRecords.Imported(session);
        var keys = context.Keys.For(record.SessionId);
        var staging = Staging(keys);
        var committed = false;
        try
        {
            var (count, last) = await StageAsync(staging, batches, cancellationToken).ConfigureAwait(false);
            committed = await CommitAsync(record, keys, staging, count, Math.Max(record.LastSequence, last), expected, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!committed)
            {
                await DiscardAsync(staging).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The staged copy's keys: the bucket's base, a kind marker, a token of this replacement (two restores
    /// of one session never share a copy), the id last (as in every key of the store).</summary>
    internal static (RedisKey Messages, RedisKey Ids) Staging(SessionKeys keys)
    {
        var token = Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);
        return (keys.Base + ":rq:" + token + ":" + keys.SessionId, keys.Base + ":ri:" + token + ":" + keys.SessionId);
    }

    private async Task<(long Count, long Last)> StageAsync(
        (RedisKey Messages, RedisKey Ids) staging, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken)
    {
        RedisKey[] stagingKeys = [staging.Messages, staging.Ids];
        var ttl = (long)StagingTimeToLive.TotalMilliseconds;
        var trip = new List<RedisValue>(1 + (3 * MaxMessagesPerTrip));
        long count = 0, last = 0, bytes = 0;

        async Task SendAsync()
        {
            var staged = (long)await context.Runner.EvaluateAsync(ReplacementScripts.Stage, stagingKeys, [.. trip], cancellationToken).ConfigureAwait(false);
            count += (trip.Count - 1) / 3;
            if (staged != count)
            {
                throw Expired();
            }

            trip.Clear();
            bytes = 0;
        }

        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            ImportChecks.EnsureAscending(batch, last);
            foreach (var message in batch)
            {
                var imported = MessageRecords.Imported(message);
                var body = RedisRecordCodec.EncodeMessageBody(imported);
                if (trip.Count > 1 && (trip.Count - 1 >= 3 * MaxMessagesPerTrip || bytes + body.Length > MaxBytesPerTrip))
                {
                    await SendAsync().ConfigureAwait(false);
                }

                if (trip.Count == 0)
                {
                    trip.Add(ttl);
                }

                trip.Add(imported.Sequence);
                trip.Add(imported.Id);
                trip.Add(body);
                bytes += body.Length;
                last = imported.Sequence;
            }

            // Each batch is staged before the next is read: nothing handed over waits in memory for the archive.
            if (trip.Count > 1)
            {
                await SendAsync().ConfigureAwait(false);
            }
        }

        return (count, last);
    }

    private async Task<bool> CommitAsync(
        ChatSession record,
        SessionKeys keys,
        (RedisKey Messages, RedisKey Ids) staging,
        long count,
        long lastSequence,
        ReplacementExpectation? expected,
        CancellationToken cancellationToken)
    {
        var updated = record.UpdatedAt.UtcTicks;
        RedisValue[] values =
        [
            count, RedisRecordCodec.JoinParticipants(record.Participants), record.Title ?? string.Empty,
            record.Title is null ? "0" : "1", RedisRecordCodec.EncodeMetadata(record.Metadata), record.CreatedAt.UtcTicks, updated,
            record.Version, lastSequence, RedisRecordCodec.Score(updated), keys.Base, record.SessionId,
            expected is null ? "0" : "1", expected?.Version ?? 0, expected?.LastSequence ?? 0, expected?.MessageCount ?? 0,
            (expected?.CreatedAt.UtcTicks ?? 0).ToString(CultureInfo.InvariantCulture), SessionEpoch.New(),
            await context.Runner.HintModeAsync(cancellationToken).ConfigureAwait(false),
        ];
        RedisKey[] commitKeys = [keys.Meta, keys.Messages, keys.Ids, keys.Recent, keys.Stats, staging.Messages, staging.Ids];
        int outcome;
        if (!await context.Runner.IsClusterAsync(cancellationToken).ConfigureAwait(false))
        {
            outcome = Outcome(
                await context.Runner.EvaluateAsync(ReplacementScripts.Commit, [.. commitKeys, context.Keys.SessionCount], values, cancellationToken).ConfigureAwait(false),
                record.SessionId,
                expected);
        }
        else if (expected is not null)
        {
            // A guarded replacement only ever replaces a session that exists: it never adds one, so it needs no create lease.
            outcome = Outcome(
                await context.Runner.EvaluateAsync(ReplacementScripts.Commit, commitKeys, values, cancellationToken).ConfigureAwait(false), record.SessionId, expected);
        }
        else
        {
            // As an import: the session may be new, so it holds a create lease (a kill before the settle leaves the
            // count high until a recount, never low).
            var lease = await context.Limit.ReserveCreateAsync(0, cancellationToken).ConfigureAwait(false);
            outcome = (int)await context.Runner.EvaluateAsync(ReplacementScripts.Commit, commitKeys, values, cancellationToken).ConfigureAwait(false);
            await context.Limit.SettleAsync(lease, outcome == 1 ? 1 : 0).ConfigureAwait(false);
        }

        if (outcome == -1)
        {
            throw Expired();
        }

        return true;
    }

    /// <summary>The commit script's outcome; a guarded replacement's conflict as its exception.</summary>
    private static int Outcome(RedisResult result, string sessionId, ReplacementExpectation? expected)
    {
        if (result.Resp2Type == ResultType.Array)
        {
            var conflict = (RedisResult[])result!;
            throw expected!.Value.Conflict(sessionId, (long)conflict[1]);
        }

        var outcome = (int)result;
        return outcome == -2 ? throw expected!.Value.Conflict(sessionId, storedVersion: null) : outcome;
    }

    /// <summary>Removes a staged copy that will not be committed; best effort, its time to live removes it otherwise.</summary>
    private async Task DiscardAsync((RedisKey Messages, RedisKey Ids) staging)
    {
        try
        {
            await context.Runner.RunAsync(db => db.KeyDeleteAsync([staging.Messages, staging.Ids]), CancellationToken.None).ConfigureAwait(false);
        }
        catch (SessionPersistenceException)
        {
            // The server is gone or slow: the keys expire on their own.
        }
    }

    private static StoreUnavailableException Expired() => new(
        "The staged copy of a session being restored expired or was removed before it was complete; the session is unchanged. Run the restore again.");
}

using System.Globalization;
using Multichat.Persistence.Feed;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The Redis store's read cursors: one hash per session (<c>B:r:&lt;sessionId&gt;</c>, in the session's hash slot),
/// marked by one script that checks the session and its last sequence and keeps the higher cursor, atomically, so
/// marks from any number of machines in any order end at the highest. Both read and mark go to the primary whatever
/// <c>ReadFrom</c> says: a replica's copy could show a cursor lower than one this instance marked (cursors only move
/// forward), and one small hash read costs no more there.
/// </summary>
internal sealed class RedisReadCursors(RedisStoreContext context)
{
    public async Task<long> MarkReadAsync(string sessionId, string participant, long sequence, CancellationToken cancellationToken)
    {
        var keys = context.Keys.For(sessionId);
        var result = (RedisResult[])(await context.Runner.EvaluateAsync(FeedScripts.MarkRead, [keys.Meta, keys.Cursors], [participant, sequence], cancellationToken)
            .ConfigureAwait(false))!;
        var outcome = (int)result[0];
        if (outcome == 1)
        {
            return Sequence(result[1]);
        }

        if (outcome == -1)
        {
            throw SessionNotFoundException.ForSession(sessionId);
        }

        if (outcome == -2)
        {
            // Throws: the script found the sequence above the last one; the check words it as every store does.
            ReadCursorChecks.EnsureAssigned(sessionId, sequence, Sequence(result[1]));
        }

        throw RedisRecordCodec.Corrupted("a read cursor", null);
    }

    public async Task<IReadOnlyDictionary<string, long>> GetReadCursorsAsync(string sessionId, CancellationToken cancellationToken)
    {
        var keys = context.Keys.For(sessionId);
        var result = await context.Runner.EvaluateAsync(FeedScripts.ReadCursors, [keys.Meta, keys.Cursors], [], cancellationToken).ConfigureAwait(false);
        if (result.IsNull)
        {
            throw SessionNotFoundException.ForSession(sessionId);
        }

        var fields = (RedisResult[])result!;
        var cursors = new Dictionary<string, long>(fields.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            cursors[(string)fields[i]!] = Sequence(fields[i + 1]);
        }

        return cursors;
    }

    private static long Sequence(RedisResult value) =>
        long.TryParse((string?)value, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            ? sequence
            : throw RedisRecordCodec.Corrupted("a read cursor", null);
}

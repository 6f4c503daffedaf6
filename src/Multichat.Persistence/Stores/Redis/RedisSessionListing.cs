using System.Runtime.CompilerServices;
using Multichat.Persistence.Internal;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>The reads over every bucket: listing pages, all session ids, statistics.</summary>
internal sealed class RedisSessionListing(RedisStoreContext context)
{
    public async Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        // Each bucket returns every entry that can be among its first Limit + 1 (see the script); the exact order
        // (UpdatedAt ticks, then id descending) and filters are applied here over the union, so paging is exact.
        var after = SessionCursor.Decode(query.ContinuationToken, nameof(query));
        long? maxTicks = after?.UpdatedAtUtcTicks;
        if (query.UpdatedBefore is { } before && (maxTicks is null || before.UtcTicks < maxTicks))
        {
            maxTicks = before.UtcTicks;
        }

        RedisValue max = maxTicks is { } m ? RedisRecordCodec.Score(m) : "+inf";
        RedisValue min = query.UpdatedAfter is { } updatedAfter ? RedisRecordCodec.Score(updatedAfter.UtcTicks) : "-inf";
        var want = query.Limit + 1;

        var calls = new Task<RedisResult?>[RedisKeys.BucketCount];
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            var index = query.Participant is { } participant ? context.Keys.Participant(bucket, participant) : context.Keys.Recent(bucket);
            calls[bucket] = ListBucketAsync(index, [max, min, want, context.Keys.Base(bucket)], cancellationToken);
        }

        // All buckets are awaited together, so a failure of one never leaves the others' failures unobserved.
        var results = await Task.WhenAll(calls).ConfigureAwait(false);
        var matched = new List<ChatSession>();
        var stale = 0;
        foreach (var bucketResult in results)
        {
            if (bucketResult is null)
            {
                continue;
            }

            var result = (RedisResult[])bucketResult!;
            stale += (int)result[0];
            for (var i = 1; i + 8 < result.Length; i += 9)
            {
                ChatSession session;
                try
                {
                    session = RedisRecordCodec.DecodeSession((string)result[i]!, result, i + 1);
                }
                catch (StoreCorruptedException ex)
                {
                    // One damaged record must not hide every other session; reading it directly still reports it.
                    RedisLog.DamagedSessionSkipped(context.Logger, ex);
                    continue;
                }

                if (SessionListing.Matches(session, query, after))
                {
                    matched.Add(session);
                }
            }
        }

        if (stale > 0)
        {
            RedisLog.StaleIndexEntriesRemoved(context.Logger, stale);
        }

        matched.Sort(SessionCursor.CompareForListing);
        if (matched.Count > want)
        {
            matched.RemoveRange(want, matched.Count - want);
        }

        return SessionListing.ToPage(matched, query.Limit);
    }

    // One bucket's page; null when its index is of another type (written by something else): that bucket's sessions
    // cannot be listed, but they must not take every other bucket's sessions out of the listing with them.
    private async Task<RedisResult?> ListBucketAsync(RedisKey index, RedisValue[] values, CancellationToken cancellationToken)
    {
        try
        {
            return await context.Runner.EvaluateAsync(ListingScripts.ListBucket, [index], values, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreCorruptedException ex)
        {
            RedisLog.DamagedIndexSkipped(context.Logger, ex);
            return null;
        }
    }

    public async IAsyncEnumerable<string> ListSessionIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        const int Chunk = 1000;
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            var index = context.Keys.Recent(bucket);
            for (long start = 0; ; start += Chunk)
            {
                var ids = await context.Runner.RunAsync(db => db.SortedSetRangeByRankAsync(index, start, start + Chunk - 1), cancellationToken).ConfigureAwait(false);
                foreach (var id in ids)
                {
                    yield return id!;
                }

                if (ids.Length < Chunk)
                {
                    break;
                }
            }
        }
    }

    public async Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        var calls = new Task<RedisResult>[RedisKeys.BucketCount];
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            calls[bucket] = context.Runner.EvaluateAsync(ListingScripts.Statistics, [context.Keys.Recent(bucket), context.Keys.Stats(bucket)], [], cancellationToken);
        }

        long sessions = 0, messages = 0;
        foreach (var result in await Task.WhenAll(calls).ConfigureAwait(false))
        {
            var counts = (RedisResult[])result!;
            sessions += (long)counts[0];
            messages += (long)counts[1];
        }

        return new StoreStatistics { Store = RedisStore.StoreName, SessionCount = sessions, MessageCount = messages };
    }
}

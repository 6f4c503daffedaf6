using System.Globalization;
using Multichat.Persistence.Internal;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Finds the session an evicting create on Redis Cluster deletes: the least recently active one, the session
/// <c>ListSessionsAsync</c> lists last (oldest <c>UpdatedAt</c>, then the lowest id in code-point order). One script
/// per bucket, the 16 sent together, each over its own slot's recency index and records; the cost is that of the
/// oldest entries of each index, whatever the number of sessions or the length of their histories.
/// </summary>
internal sealed class RedisLeastRecentlyActive(RedisStoreContext context)
{
    // KEYS[1] a bucket's recency index, ARGV[1] the bucket's key base. Walks the index from its oldest entry and
    // returns {sessions the index holds, stale entries removed, then id, u ticks, …} for every session in the oldest millisecond that holds a
    // readable record (at most 1,000; ticks decide the order within the millisecond on the client). An entry whose
    // record is gone is removed, as a listing removes it; a damaged record (no participants, or another type) is skipped, since the delete script
    // leaves such a record alone too. At most 1,000 entries are walked, so damage never makes one call long.
    private const string OldestScript = """
        local out = {}
        local stale = {}
        local oldest = nil
        local walked = 0
        local finished = false
        while not finished and walked < 1000 do
          local page = redis.call('ZRANGE', KEYS[1], walked, walked + 31, 'WITHSCORES')
          if #page == 0 then break end
          for i = 1, #page, 2 do
            local id = page[i]
            local score = tonumber(page[i + 1])
            if oldest and score > oldest then finished = true break end
            local key = ARGV[1] .. ':m:' .. id
            local rec = redis.pcall('HMGET', key, 'p', 'u')
            if not rec.err then
              if rec[1] then
                oldest = score
                out[#out + 1] = id
                out[#out + 1] = rec[2] or (page[i + 1] .. '0000')
                if #out >= 2000 then finished = true break end
              elseif redis.call('EXISTS', key) == 0 then
                stale[#stale + 1] = id
              end
            end
          end
          walked = walked + 32
        end
        for _, id in ipairs(stale) do redis.call('ZREM', KEYS[1], id) end
        table.insert(out, 1, #stale)
        table.insert(out, 1, redis.call('ZCARD', KEYS[1]))
        return out
        """;

    /// <summary>
    /// The least recently active session's id (<see langword="null"/> when no bucket holds a readable one), how many
    /// sessions the indexes hold (each bucket's read atomically, the buckets one after another), and whether index
    /// entries of sessions that are gone were removed on the way: those counted in a recount, so the caller recounts
    /// before it evicts anyone.
    /// </summary>
    public async Task<(string? Victim, long Indexed, bool RemovedStale)> FindAsync(CancellationToken cancellationToken)
    {
        var calls = new Task<RedisResult>[RedisKeys.BucketCount];
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            calls[bucket] = context.Runner.EvaluateAsync(OldestScript, [context.Keys.Recent(bucket)], [context.Keys.Base(bucket)], cancellationToken);
        }

        string? victim = null;
        var victimTicks = long.MaxValue;
        var removedStale = false;
        long indexed = 0;
        foreach (var result in await Task.WhenAll(calls).ConfigureAwait(false))
        {
            var found = (RedisResult[])result!;
            indexed += (long)found[0];
            removedStale |= (int)found[1] > 0;
            for (var i = 2; i + 1 < found.Length; i += 2)
            {
                var id = (string)found[i]!;
                if (!long.TryParse((string?)found[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
                {
                    continue;
                }

                if (victim is null || ticks < victimTicks || (ticks == victimTicks && CodePointOrder.Compare(id, victim) < 0))
                {
                    (victim, victimTicks) = (id, ticks);
                }
            }
        }

        return (victim, indexed, removedStale);
    }
}

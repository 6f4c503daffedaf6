using System.Globalization;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The record check of the health report: reads and parses a bounded sample (the newest <see cref="PerBucket"/>
/// sessions of each bucket, so at most 32 heads and their last messages, one script call per bucket) and names the
/// sessions whose keys are damaged: a record or message that does not parse or has the wrong type, counts that do not
/// match the messages, an id map that lost entries. The cost never depends on how many sessions or messages there are.
/// </summary>
internal sealed class RedisHealthSample(RedisStoreContext context)
{
    /// <summary>How many of each bucket's most recently active sessions are checked.</summary>
    public const int PerBucket = 2;

    // KEYS[1] a bucket's recency index; ARGV[1] its key base, ARGV[2] how many. Per session {id, record fields (8, or
    // the string 'type' when the key is not a hash), last message member (false when none, 'type'), message count,
    // id count} (-1 for a count of a key of the wrong type). pcall: a key of another type is reported, never fails the bucket.
    private const string SampleScript = """
        local out = {}
        for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'REV')) do
          local base = ARGV[1]
          local rec = redis.pcall('HMGET', base .. ':m:' .. id, 'p', 't', 'm', 'c', 'u', 'v', 'n', 'l')
          if rec.err then rec = 'type' end
          local last = redis.pcall('ZRANGE', base .. ':q:' .. id, -1, -1)
          if last.err then last = 'type' else last = last[1] or false end
          local count = redis.pcall('ZCARD', base .. ':q:' .. id)
          if type(count) ~= 'number' then count = -1 end
          local ids = redis.pcall('HLEN', base .. ':i:' .. id)
          if type(ids) ~= 'number' then ids = -1 end
          out[#out + 1] = {id, rec, last, count, ids}
        end
        return out
        """;

    /// <summary>What is damaged in the sample ("session 'id': what"), empty when nothing; and how many sessions were checked.</summary>
    public async Task<(IReadOnlyList<string> Damage, int Checked)> CheckAsync(CancellationToken cancellationToken)
    {
        var calls = new Task<RedisResult>[RedisKeys.BucketCount];
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            calls[bucket] = context.Runner.EvaluateAsync(SampleScript, [context.Keys.Recent(bucket)], [context.Keys.Base(bucket), PerBucket], cancellationToken);
        }

        var damage = new List<string>();
        var sampled = 0;
        foreach (var result in await Task.WhenAll(calls).ConfigureAwait(false))
        {
            foreach (var entry in (RedisResult[])result!)
            {
                var parts = (RedisResult[])entry!;
                var sessionId = (string)parts[0]!;
                sampled++;
                if (Inspect(sessionId, parts) is { } problem)
                {
                    damage.Add(string.Create(CultureInfo.InvariantCulture, $"session '{sessionId}': {problem}"));
                }
            }
        }

        return (damage, sampled);
    }

    private static string? Inspect(string sessionId, RedisResult[] parts)
    {
        if (parts[1].Resp2Type != ResultType.Array)
        {
            return "its record is not a hash";
        }

        var fields = (RedisResult[])parts[1]!;
        if (Array.TrueForAll(fields, f => f.IsNull))
        {
            return null; // deleted meanwhile: a stale index entry, which listings remove
        }

        ChatSession session;
        try
        {
            session = RedisRecordCodec.DecodeSession(sessionId, fields, 0);
        }
        catch (StoreCorruptedException)
        {
            return "its record does not parse";
        }

        if (!parts[2].IsNull)
        {
            if ((string?)parts[2] == "type")
            {
                return "its messages key is not a sorted set";
            }

            ChatMessage last;
            try
            {
                last = RedisRecordCodec.DecodeMessage(sessionId, (RedisValue)parts[2]);
            }
            catch (StoreCorruptedException)
            {
                return "its last message does not parse";
            }

            if (last.Sequence > session.LastSequence)
            {
                return string.Create(CultureInfo.InvariantCulture, $"its last message has sequence {last.Sequence}, above the record's last sequence {session.LastSequence}");
            }
        }

        var count = (long)parts[3];
        if (count != session.MessageCount)
        {
            return count < 0
                ? "its messages key is not a sorted set"
                : string.Create(CultureInfo.InvariantCulture, $"it holds {count} messages, its record says {session.MessageCount}");
        }

        var ids = (long)parts[4];
        return ids == session.MessageCount
            ? null
            : ids < 0
                ? "its id map is not a hash"
                : string.Create(CultureInfo.InvariantCulture, $"its id map holds {ids} ids for {session.MessageCount} messages (the next append rebuilds it)");
    }
}

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The Lua of the message commands (<see cref="RedisMessageCommands"/>), over one session's keys (all in its bucket's
/// hash slot): <c>KEYS[1]</c> the session record, <c>KEYS[2]</c> its messages, <c>KEYS[3]</c> its id map, then (as each
/// script says) its bucket's recency index and statistics.
/// </summary>
internal static class MessageScripts
{
    /// <summary>
    /// Keeps only the latest <c>keep</c> messages of a session: the oldest leave the messages and, with their ids, the
    /// id map; the session's and the bucket's message counts shrink with them. Returns how many went. Shared by
    /// <see cref="Append"/> (trimming to MaxMessagesPerSession) and <see cref="Trim"/>.
    /// </summary>
    private const string TrimFunction = """
        local function trim(meta, messages, ids, stats, keep)
          local count = redis.call('ZCARD', messages)
          if count <= keep then return 0 end
          local doomed = redis.call('ZRANGE', messages, 0, count - keep - 1)
          for _, m in ipairs(doomed) do
            redis.call('HDEL', ids, string.match(m, '^%d+\n([^\n]*)\n'))
          end
          redis.call('ZREMRANGEBYRANK', messages, 0, count - keep - 1)
          redis.call('HINCRBY', meta, 'n', -#doomed)
          redis.call('HINCRBY', stats, 'messages', -#doomed)
          return #doomed
        end

        """;

    /// <summary>
    /// One round trip: idempotency (id → seq map), the Reject limit, sequences, writes, counters, activity indexes and
    /// trimming, and the feed's hint when anything was added. KEYS[4] the bucket's recency index, KEYS[5] its statistics;
    /// ARGV: now (ticks), the activity score, the most messages to keep (TrimOldest; 0 = all), the most messages the
    /// session may hold (Reject; 0 = no limit), the hint's mode (see <see cref="FeedScripts.HintFunction"/>), then id
    /// and body per message. Returns per input message the new sequence (a number) or the stored original
    /// member (a string), or nil when there is no session, or the string 'ids' when the id map is damaged beyond the
    /// repair below, or the string 'quota STORED NEW' when the Reject limit refuses the batch (in both cases nothing of
    /// the batch was written).
    /// </summary>
    /// <remarks>
    /// The id map holds exactly one entry per stored message (every write keeps it so: appends add one per message,
    /// trims remove the ids of the messages they remove, imports refuse an id already stored), so its size (HLEN,
    /// O(1)) equals the record's count <c>n</c>. When it does not, the map was deleted or emptied by something else,
    /// and a retry of a stored id would be stored twice: the map is rebuilt from the messages first (their members
    /// hold sequence and id; a cost proportional to the session, paid once per damage, and only up to
    /// <c>RebuildLimit</c> messages so one script never blocks the server for long). When it still does not match (the
    /// messages are damaged too, or the session is larger), the append is refused as corrupted instead of risking a
    /// duplicate.
    /// <para>The Reject limit is checked after that repair (it counts new ids against the map) and before the first
    /// write of the batch: ids neither in the map nor earlier in the batch are new, and when there are any and the
    /// stored count <c>n</c> (after trims) plus them passes the limit, nothing is written. A batch of stored ids only
    /// is never refused. The script is atomic, so appenders on any number of machines never pass the limit together.</para>
    /// </remarks>
    public const string Append = TrimFunction + FeedScripts.HintFunction + """
        local meta = redis.call('HMGET', KEYS[1], 'l', 'n', 'k')
        if not meta[1] then return false end
        local first = tonumber(meta[1])
        local n = tonumber(meta[2])
        if n and redis.call('HLEN', KEYS[3]) ~= n then
          local total = redis.call('ZCARD', KEYS[2])
          if total ~= n or total > 100000 then return 'ids' end
          redis.call('DEL', KEYS[3])
          local members = redis.call('ZRANGE', KEYS[2], 0, -1)
          for _, m in ipairs(members) do
            local seq, id = string.match(m, '^(%d+)\n([^\n]*)\n')
            if not seq or redis.call('HSETNX', KEYS[3], id, seq) == 0 then return 'ids' end
          end
        end
        local limit = tonumber(ARGV[4])
        if limit > 0 then
          local new = 0
          local seen = {}
          for i = 6, #ARGV, 2 do
            local id = ARGV[i]
            if not seen[id] then
              seen[id] = true
              if redis.call('HEXISTS', KEYS[3], id) == 0 then new = new + 1 end
            end
          end
          local held = n or 0
          if new > 0 and held + new > limit then return 'quota ' .. held .. ' ' .. new end
        end
        local last = first
        local out = {}
        local fresh = {}
        for i = 6, #ARGV, 2 do
          local id = ARGV[i]
          if fresh[id] then
            out[#out + 1] = fresh[id]
          elseif redis.call('HSETNX', KEYS[3], id, last + 1) == 1 then
            last = last + 1
            redis.call('ZADD', KEYS[2], last, last .. '\n' .. id .. '\n' .. ARGV[i + 1])
            fresh[id] = last
            out[#out + 1] = last
          else
            local seq = redis.call('HGET', KEYS[3], id)
            local found = redis.call('ZRANGE', KEYS[2], seq, seq, 'BYSCORE')
            out[#out + 1] = found[1] or 'missing'
          end
        end
        local added = last - first
        if added > 0 then
          redis.call('HSET', KEYS[1], 'l', last, 'u', ARGV[1], 'n', n + added, 'k', ARGV[2])
          redis.call('HINCRBY', KEYS[5], 'messages', added)
          -- The indexes hold whole milliseconds: within the millisecond they already show, they are up to date.
          local base = string.sub(KEYS[4], 1, -8)
          local sid = string.sub(KEYS[1], #base + 4)
          if meta[3] ~= ARGV[2] then
            redis.call('ZADD', KEYS[4], ARGV[2], sid)
            for p in string.gmatch(redis.call('HGET', KEYS[1], 'p'), '[^\n]+') do
              redis.call('ZADD', base .. ':p:' .. p, ARGV[2], sid)
            end
          end
          hint(ARGV[5], base, sid)
        end
        local max = tonumber(ARGV[3])
        if max > 0 then trim(KEYS[1], KEYS[2], KEYS[3], KEYS[5], max) end
        return out
        """;

    /// <summary>A page of messages: ARGV min, max (ZRANGE BYSCORE bounds), '1' for newest first, the count; nil when there is no session.</summary>
    public const string Read = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        if ARGV[3] == '1' then
          return redis.call('ZRANGE', KEYS[2], ARGV[2], ARGV[1], 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[4])
        end
        return redis.call('ZRANGE', KEYS[2], ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[4])
        """;

    /// <summary>Keeps the latest ARGV[1] messages; KEYS[4] the bucket's statistics. Returns how many went (0 when there is no session).</summary>
    public const string Trim = TrimFunction + """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        return trim(KEYS[1], KEYS[2], KEYS[3], KEYS[4], tonumber(ARGV[1]))
        """;

    /// <summary>
    /// Imports messages with their sequences (ARGV[1] the hint's mode, then sequence, id, body per message); KEYS[4] the
    /// bucket's statistics. The feed's hint goes out with the write.
    /// The order against what is stored is checked here (it returns {-2, last stored sequence} when the batch does not
    /// follow it) so a concurrent writer cannot slip in between check and write; {-1} when there is no session; {-3, id}
    /// (nothing written) when an id is stored already or repeats in the batch, which would break the one-entry-per-message
    /// rule of the id map that <see cref="Append"/> checks.
    /// </summary>
    public const string ImportMessages = FeedScripts.HintFunction + """
        local l = redis.call('HGET', KEYS[1], 'l')
        if not l then return {-1} end
        local tail = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        local stored = 0
        if tail[2] then stored = tonumber(tail[2]) end
        if tonumber(ARGV[2]) <= stored then return {-2, stored} end
        local seen = {}
        for i = 3, #ARGV, 3 do
          if seen[ARGV[i]] or redis.call('HEXISTS', KEYS[3], ARGV[i]) == 1 then return {-3, ARGV[i]} end
          seen[ARGV[i]] = true
        end
        local count = 0
        local top = tonumber(l)
        for i = 2, #ARGV, 3 do
          redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i] .. '\n' .. ARGV[i + 1] .. '\n' .. ARGV[i + 2])
          redis.call('HSET', KEYS[3], ARGV[i + 1], ARGV[i])
          count = count + 1
          if tonumber(ARGV[i]) > top then top = tonumber(ARGV[i]) end
        end
        redis.call('HINCRBY', KEYS[1], 'n', count)
        redis.call('HSET', KEYS[1], 'l', top)
        redis.call('HINCRBY', KEYS[4], 'messages', count)
        local base = string.sub(KEYS[4], 1, -7)
        hint(ARGV[1], base, string.sub(KEYS[1], #base + 4))
        return {1}
        """;
}

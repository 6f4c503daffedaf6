namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The Lua of the session commands (<see cref="RedisSessionCommands"/>). Each runs over one session's record and its
/// bucket's indexes (one hash slot); where a script also takes the store-wide session count (a single node only,
/// see <see cref="RedisSessionLimit"/>) it keeps that count right when it exists.
/// </summary>
internal static class SessionScripts
{
    /// <summary>
    /// Writes a new session's record and index entries and counts it; KEYS and ARGV[1..8] as <see cref="Create"/>, and
    /// the new session's epoch, which each script takes at its own ARGV position. Read cursors left by an earlier life
    /// (written by a version of the store that did not remove them) go, so a new life starts with none. Shared by
    /// <see cref="Create"/> and <see cref="CreateEvicting"/>.
    /// </summary>
    private const string InsertFunction = """
        local function insert(epoch)
          redis.call('HSET', KEYS[1], 'p', ARGV[1], 'c', ARGV[5], 'u', ARGV[5], 'v', 1, 'n', 0, 'l', 0, 'k', ARGV[6], 'e', epoch)
          redis.call('DEL', ARGV[7] .. ':r:' .. ARGV[8])
          if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[2]) end
          if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[4]) end
          redis.call('ZADD', KEYS[2], ARGV[6], ARGV[8])
          for p in string.gmatch(ARGV[1], '[^\n]+') do
            redis.call('ZADD', ARGV[7] .. ':p:' .. p, ARGV[6], ARGV[8])
          end
          if KEYS[3] and redis.call('HEXISTS', KEYS[3], 'n') == 1 then
            redis.call('HINCRBY', KEYS[3], 'n', 1)
            redis.call('HINCRBY', KEYS[3], 'e', 1)
          end
        end

        """;

    /// <summary>
    /// Removes one session: its participants' index entries, its recency entry, its messages from the bucket's
    /// statistics, its four keys (the read cursors found from the base and id, as the participant indexes are), and one
    /// from the session count (when the count is kept), and sends the feed's hint in <c>mode</c> (see
    /// <see cref="FeedScripts.HintFunction"/>), so watchers learn at once that the session ended. Shared by
    /// <see cref="Delete"/> and <see cref="CreateEvicting"/>, so an eviction is exactly a delete.
    /// </summary>
    private const string RemoveFunction = FeedScripts.HintFunction + """
        local function remove(record, messages, ids, recent, stats, sessions, base, id, participants, n, mode)
          for p in string.gmatch(participants, '[^\n]+') do
            redis.call('ZREM', base .. ':p:' .. p, id)
          end
          redis.call('ZREM', recent, id)
          if n > 0 then redis.call('HINCRBY', stats, 'messages', 0 - n) end
          redis.call('DEL', record, messages, ids, base .. ':r:' .. id)
          if sessions and redis.call('HEXISTS', sessions, 'n') == 1 then
            redis.call('HINCRBY', sessions, 'n', -1)
            redis.call('HINCRBY', sessions, 'e', 1)
          end
          hint(mode, base, id)
        end

        """;

    /// <summary>
    /// KEYS[1] the record, KEYS[2] its bucket's recency index; on a single node also KEYS[3] the session count and
    /// KEYS[4..] every bucket's recency index: there the limit (ARGV[9], 0 = none) is checked against their sizes in
    /// the same script (a server that is not a cluster runs scripts over keys of several slots). On a cluster ARGV[9]
    /// is 0 and <see cref="RedisSessionLimit"/> keeps the count around this script. ARGV: participants joined by LF,
    /// title, '1' when there is a title, metadata JSON, now (ticks), the activity score, the bucket's key base, the id;
    /// ARGV[10] the new session's epoch (drawn by the client: no counter in another slot). Returns 1, 0 (exists) or -1
    /// (full).
    /// </summary>
    public const string Create = InsertFunction + """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local max = tonumber(ARGV[9])
        if max > 0 then
          local count = 0
          for i = 4, #KEYS do count = count + redis.call('ZCARD', KEYS[i]) end
          if count >= max then return -1 end
        end
        insert(ARGV[10])
        return 1
        """;

    /// <summary>
    /// A create under <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/> on a single node: the limit check, the
    /// eviction of the least recently active sessions and the insert in one script. KEYS as <see cref="Create"/> on a
    /// single node (KEYS[4..3+B] every bucket's recency index, B = ARGV[10]), then four per candidate victim: its
    /// record, messages, id map and its bucket's statistics. ARGV[1..8] as <see cref="Create"/>, ARGV[9] the limit,
    /// ARGV[10] B, ARGV[11] how many candidates beyond the ones needed to propose, ARGV[12] '1' to check that the
    /// candidates hold every older entry (else the oldest candidates are taken as they are), ARGV[13] the new session's
    /// epoch, ARGV[14] the feed hint's mode (for the victims), then bucket (0-based) and id per candidate.
    /// Returns {1, evicted id…} when created, {0} when the id exists (checked first: nothing is evicted), or
    /// {-1, count, bucket, id, …} when the store is full and the candidates passed do not decide the victims: the
    /// caller runs the script again with the candidates returned.
    /// </summary>
    /// <remarks>
    /// <para>A victim's keys are only known once its id is, and a script may only touch the keys it is given (several
    /// buckets are several hash slots), so the victims are proposed by one run and checked and evicted by the next:
    /// from the recency indexes alone (declared), a run at the limit returns as candidates every entry whose score is
    /// at most that of the (needed + ARGV[11])-th oldest. The next run, with their keys, orders the candidates that
    /// still are in their index by activity (index score, then the record's <c>u</c> ticks, then the id's UTF-8
    /// bytes, which is code-point order: the session <c>ListSessionsAsync</c> lists last comes first), and evicts the
    /// first it needs only when <c>ZCOUNT</c> shows that no index entry at or below the last victim's score is missing
    /// from the candidates; otherwise (a concurrent create or import changed the indexes) it proposes anew. Concurrent
    /// evicting creates that pick the same victims do not make each other propose anew: a victim already gone is
    /// skipped and the next candidate, the spare ones, take its place. Creates that keep landing in the oldest
    /// milliseconds (a burst of creates when all sessions are only milliseconds old: their timestamps are taken before
    /// their scripts run) could make that check fail round after round, so the caller asks for it only in the first
    /// rounds and then takes the oldest candidates it has: what landed since the proposal was created after it, so is
    /// newer in fact if not by its timestamp. The limit itself is counted in the same script either way.</para>
    /// <para>An entry whose record is gone is removed (not reported: there was no session); a damaged record (no
    /// participants, or another type) is skipped, not evicted, as the delete script leaves it too. Eviction is the
    /// delete script's work per victim, the session count <c>n</c> (kept when it exists) included; a victim's
    /// participant index keys are found from its record, in its own hash slot, as the delete script finds them.
    /// Scores are compared as numbers (whole milliseconds, exact in a double) and ticks as digit strings (above
    /// 2^53).</para>
    /// </remarks>
    public const string CreateEvicting = InsertFunction + RemoveFunction + """
        local function bytesbefore(a, b)
          local n = math.min(#a, #b)
          for i = 1, n do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then return x < y end
          end
          return #a < #b
        end
        local function precedes(a, b)
          if a.score ~= b.score then return a.score < b.score end
          if a.ticks ~= b.ticks then
            if #a.ticks ~= #b.ticks then return #a.ticks < #b.ticks end
            return bytesbefore(a.ticks, b.ticks)
          end
          return bytesbefore(a.id, b.id)
        end
        if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
        local max = tonumber(ARGV[9])
        local buckets = tonumber(ARGV[10])
        local spare = tonumber(ARGV[11])
        local strict = ARGV[12] == '1'
        local function propose(count, need)
          local want = need + spare
          local scores = {}
          for b = 0, buckets - 1 do
            local page = redis.call('ZRANGE', KEYS[4 + b], 0, want - 1, 'WITHSCORES')
            for i = 2, #page, 2 do scores[#scores + 1] = {tonumber(page[i]), page[i]} end
          end
          local out = {-1, count}
          if #scores == 0 then return out end
          table.sort(scores, function(x, y) return x[1] < y[1] end)
          local top = scores[math.min(want, #scores)][2]
          for b = 0, buckets - 1 do
            for _, id in ipairs(redis.call('ZRANGE', KEYS[4 + b], '-inf', top, 'BYSCORE', 'LIMIT', 0, want + 1000)) do
              out[#out + 1] = b
              out[#out + 1] = id
            end
          end
          return out
        end
        local count = 0
        for b = 0, buckets - 1 do count = count + redis.call('ZCARD', KEYS[4 + b]) end
        local result = {1}
        if count >= max then
          local first = 4 + buckets
          local passed = {}
          for j = 15, #ARGV, 2 do
            local bucket = tonumber(ARGV[j])
            local id = ARGV[j + 1]
            local k = first + 2 * (j - 15)
            local recent = KEYS[4 + bucket]
            local score = redis.call('ZSCORE', recent, id)
            if score then
              if redis.call('EXISTS', KEYS[k]) == 0 then
                redis.call('ZREM', recent, id)
                count = count - 1
              else
                local c = {bucket = bucket, id = id, k = k, score = tonumber(score), raw = score}
                local rec = redis.pcall('HMGET', KEYS[k], 'p', 'u', 'n')
                if not rec.err and rec[1] then
                  c.p = rec[1]
                  c.n = tonumber(rec[3]) or 0
                  c.ticks = rec[2] or (score .. '0000')
                end
                passed[#passed + 1] = c
              end
            end
          end
          local need = count - max + 1
          if need > 0 then
            local usable = {}
            for _, c in ipairs(passed) do
              if c.p then usable[#usable + 1] = c end
            end
            if #usable < need then return propose(count, need) end
            table.sort(usable, precedes)
            local last = usable[need]
            if strict then
              for b = 0, buckets - 1 do
                local expected = 0
                for _, c in ipairs(passed) do
                  if c.bucket == b and c.score <= last.score then expected = expected + 1 end
                end
                if redis.call('ZCOUNT', KEYS[4 + b], '-inf', last.raw) ~= expected then return propose(count, need) end
              end
            end
            for i = 1, need do
              local c = usable[i]
              local recent = KEYS[4 + c.bucket]
              remove(KEYS[c.k], KEYS[c.k + 1], KEYS[c.k + 2], recent, KEYS[c.k + 3], KEYS[3], string.sub(recent, 1, -8), c.id, c.p, c.n, ARGV[14])
              result[#result + 1] = c.id
            end
          end
        end
        insert(ARGV[13])
        return result
        """;

    /// <summary>
    /// Compare-and-set on the version (ARGV[1]); participant index entries of removed participants go in the same
    /// script. Returns {1, record fields}, {-1} (no session) or {-2, stored version}.
    /// </summary>
    public const string Update = """
        local cur = redis.call('HMGET', KEYS[1], 'v', 'p')
        if not cur[1] then return {-1} end
        if cur[1] ~= ARGV[1] then return {-2, cur[1]} end
        for p in string.gmatch(cur[2], '[^\n]+') do
          redis.call('ZREM', ARGV[8] .. ':p:' .. p, ARGV[9])
        end
        local v = tonumber(cur[1]) + 1
        redis.call('HSET', KEYS[1], 'p', ARGV[2], 'u', ARGV[6], 'v', v, 'k', ARGV[7])
        if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[3]) else redis.call('HDEL', KEYS[1], 't') end
        if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[5]) else redis.call('HDEL', KEYS[1], 'm') end
        redis.call('ZADD', KEYS[2], ARGV[7], ARGV[9])
        for p in string.gmatch(ARGV[2], '[^\n]+') do
          redis.call('ZADD', ARGV[8] .. ':p:' .. p, ARGV[7], ARGV[9])
        end
        local rec = redis.call('HMGET', KEYS[1], 'p', 't', 'm', 'c', 'u', 'v', 'n', 'l')
        table.insert(rec, 1, 1)
        return rec
        """;

    /// <summary>KEYS: record, messages, id map, recency index, statistics; on a single node KEYS[6] the session count.
    /// ARGV: the bucket's base, the id, the feed hint's mode. Returns 1 or 0 (no session).</summary>
    public const string Delete = RemoveFunction + """
        local cur = redis.call('HMGET', KEYS[1], 'p', 'n')
        if not cur[1] then return 0 end
        remove(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1], ARGV[2], cur[1], tonumber(cur[2]), ARGV[3])
        return 1
        """;

    /// <summary>
    /// Writes an imported session record (no messages yet), a new life of the session with the epoch ARGV[13]. KEYS as
    /// <see cref="Delete"/>; ARGV[1] '1' to replace an existing one, ARGV[14] the feed hint's mode. The old life's read
    /// cursors go with it, and watchers get the hint. Returns 1 for a new session, 2 for a replaced one, 0 when one
    /// exists and may not be replaced (a new session counts; imports do not check the limit).
    /// </summary>
    public const string ImportSession = FeedScripts.HintFunction + """
        local n = redis.call('HGET', KEYS[1], 'n')
        if n then
          if ARGV[1] ~= '1' then return 0 end
          local old = redis.call('HGET', KEYS[1], 'p')
          for p in string.gmatch(old, '[^\n]+') do
            redis.call('ZREM', ARGV[11] .. ':p:' .. p, ARGV[12])
          end
          if tonumber(n) > 0 then redis.call('HINCRBY', KEYS[5], 'messages', 0 - tonumber(n)) end
          redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
        end
        redis.call('DEL', ARGV[11] .. ':r:' .. ARGV[12])
        redis.call('HSET', KEYS[1], 'p', ARGV[2], 'c', ARGV[6], 'u', ARGV[7], 'v', ARGV[8], 'n', 0, 'l', ARGV[9], 'k', ARGV[10], 'e', ARGV[13])
        if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[3]) end
        if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[5]) end
        redis.call('ZADD', KEYS[4], ARGV[10], ARGV[12])
        for p in string.gmatch(ARGV[2], '[^\n]+') do
          redis.call('ZADD', ARGV[11] .. ':p:' .. p, ARGV[10], ARGV[12])
        end
        hint(ARGV[14], ARGV[11], ARGV[12])
        if n then return 2 end
        if KEYS[6] and redis.call('HEXISTS', KEYS[6], 'n') == 1 then
          redis.call('HINCRBY', KEYS[6], 'n', 1)
          redis.call('HINCRBY', KEYS[6], 'e', 1)
        end
        return 1
        """;
}

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The Lua of the session commands (<see cref="RedisSessionCommands"/>). Each runs over one session's record and its
/// bucket's indexes (one hash slot); where a script also takes the store-wide session count (a single node only,
/// see <see cref="RedisSessionLimit"/>) it keeps that count right when it exists.
/// </summary>
internal static class SessionScripts
{
    /// <summary>
    /// KEYS[1] the record, KEYS[2] its bucket's recency index; on a single node also KEYS[3] the session count and
    /// KEYS[4..] every bucket's recency index: there the limit (ARGV[9], 0 = none) is checked against their sizes in
    /// the same script (a server that is not a cluster runs scripts over keys of several slots). On a cluster ARGV[9]
    /// is 0 and <see cref="RedisSessionLimit"/> keeps the count around this script. Returns 1, 0 (exists) or -1 (full).
    /// </summary>
    public const string Create = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local max = tonumber(ARGV[9])
        if max > 0 then
          local count = 0
          for i = 4, #KEYS do count = count + redis.call('ZCARD', KEYS[i]) end
          if count >= max then return -1 end
        end
        redis.call('HSET', KEYS[1], 'p', ARGV[1], 'c', ARGV[5], 'u', ARGV[5], 'v', 1, 'n', 0, 'l', 0, 'k', ARGV[6])
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
        return 1
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

    /// <summary>KEYS: record, messages, id map, recency index, statistics; on a single node KEYS[6] the session count. Returns 1 or 0 (no session).</summary>
    public const string Delete = """
        local cur = redis.call('HMGET', KEYS[1], 'p', 'n')
        if not cur[1] then return 0 end
        for p in string.gmatch(cur[1], '[^\n]+') do
          redis.call('ZREM', ARGV[1] .. ':p:' .. p, ARGV[2])
        end
        redis.call('ZREM', KEYS[4], ARGV[2])
        local n = tonumber(cur[2])
        if n > 0 then redis.call('HINCRBY', KEYS[5], 'messages', 0 - n) end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
        if KEYS[6] and redis.call('HEXISTS', KEYS[6], 'n') == 1 then
          redis.call('HINCRBY', KEYS[6], 'n', -1)
          redis.call('HINCRBY', KEYS[6], 'e', 1)
        end
        return 1
        """;

    /// <summary>
    /// Writes an imported session record (no messages yet). KEYS as <see cref="Delete"/>; ARGV[1] '1' to replace an
    /// existing one. Returns 1 for a new session, 2 for a replaced one, 0 when one exists and may not be replaced (a
    /// new session counts; imports do not check the limit).
    /// </summary>
    public const string ImportSession = """
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
        redis.call('HSET', KEYS[1], 'p', ARGV[2], 'c', ARGV[6], 'u', ARGV[7], 'v', ARGV[8], 'n', 0, 'l', ARGV[9], 'k', ARGV[10])
        if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[3]) end
        if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[5]) end
        redis.call('ZADD', KEYS[4], ARGV[10], ARGV[12])
        for p in string.gmatch(ARGV[2], '[^\n]+') do
          redis.call('ZADD', ARGV[11] .. ':p:' .. p, ARGV[10], ARGV[12])
        end
        if n then return 2 end
        if KEYS[6] and redis.call('HEXISTS', KEYS[6], 'n') == 1 then
          redis.call('HINCRBY', KEYS[6], 'n', 1)
          redis.call('HINCRBY', KEYS[6], 'e', 1)
        end
        return 1
        """;
}

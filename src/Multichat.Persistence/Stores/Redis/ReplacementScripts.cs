namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The Lua of <see cref="RedisSessionReplacement"/>: the new messages are staged under keys of the session's bucket
/// (so one script may rename them, on a cluster too), then one script swaps the whole session in.
/// </summary>
internal static class ReplacementScripts
{
    /// <summary>
    /// Adds messages to the staged copy: KEYS[1] the staged messages, KEYS[2] the staged id map; ARGV[1] their time to
    /// live in milliseconds (renewed by every call, so a restore that stopped leaves only keys that expire), then
    /// sequence, id, body per message (members as <see cref="MessageScripts.ImportMessages"/> writes them). Returns the
    /// number of staged messages, so a copy that expired under way is noticed at once.
    /// </summary>
    public const string Stage = """
        for i = 2, #ARGV, 3 do
          redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i] .. '\n' .. ARGV[i + 1] .. '\n' .. ARGV[i + 2])
          redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i])
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        redis.call('PEXPIRE', KEYS[2], ARGV[1])
        return redis.call('ZCARD', KEYS[1])
        """;

    /// <summary>
    /// Swaps the staged copy in, atomically: KEYS record, messages, id map, recency index, statistics, staged messages,
    /// staged id map, on a single node KEYS[8] the session count. ARGV[1] the number of staged messages, then as
    /// <see cref="SessionScripts.ImportSession"/> (ARGV[2..12]: participants, title, has title, metadata, created,
    /// updated, version, last sequence, score, bucket base, id), ARGV[13] '1' for a guarded replacement and then the
    /// expected version, last sequence, message count and creation ticks (ARGV[14..17]), ARGV[18] the new session's
    /// epoch (a restore is a new life of the session; a guarded replacement keeps the stored epoch: re-encryption
    /// continues the life with the same plain content). Every check comes before the
    /// first write (a script is not rolled back on error): -1 when the staged copy is not whole (it expired); for a
    /// guarded replacement -2 when the session is missing and {-3, stored version} when it is no longer as expected
    /// (the creation ticks compared as text: they are beyond a Lua number's exact range); nothing changed. Otherwise the
    /// old session goes as <see cref="SessionScripts.Delete"/> removes one (its read cursors too, they belong to the old
    /// life, except in a guarded replacement: re-encryption continues the life, so they stay, in this same step), the staged keys are renamed to the live names and made persistent, the record, indexes and counts are
    /// written as an import writes them, and watchers get the feed's hint (mode ARGV[19]). Returns 1 for a new session
    /// (counted), 2 for a replaced one.
    /// </summary>
    public const string Commit = FeedScripts.HintFunction + """
        local count = tonumber(ARGV[1])
        if redis.call('ZCARD', KEYS[6]) ~= count then return -1 end
        if count > 0 and redis.call('EXISTS', KEYS[7]) == 0 then return -1 end
        if ARGV[13] == '1' then
          local g = redis.call('HMGET', KEYS[1], 'v', 'l', 'n', 'c')
          if not g[1] then return -2 end
          if tonumber(g[1]) ~= tonumber(ARGV[14]) or tonumber(g[2]) ~= tonumber(ARGV[15]) or tonumber(g[3]) ~= tonumber(ARGV[16]) or g[4] ~= ARGV[17] then
            return {-3, g[1]}
          end
        end
        local cur = redis.call('HMGET', KEYS[1], 'p', 'n', 'e')
        local epoch = ARGV[18]
        if ARGV[13] == '1' and cur[3] then epoch = cur[3] end
        if cur[1] then
          for p in string.gmatch(cur[1], '[^\n]+') do
            redis.call('ZREM', ARGV[11] .. ':p:' .. p, ARGV[12])
          end
        end
        if cur[2] and tonumber(cur[2]) > 0 then redis.call('HINCRBY', KEYS[5], 'messages', 0 - tonumber(cur[2])) end
        redis.call('ZREM', KEYS[4], ARGV[12])
        if ARGV[13] == '1' then
          redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
        else
          redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], ARGV[11] .. ':r:' .. ARGV[12])
        end
        if count > 0 then
          redis.call('RENAME', KEYS[6], KEYS[2])
          redis.call('PERSIST', KEYS[2])
          redis.call('RENAME', KEYS[7], KEYS[3])
          redis.call('PERSIST', KEYS[3])
          redis.call('HINCRBY', KEYS[5], 'messages', count)
        end
        redis.call('HSET', KEYS[1], 'p', ARGV[2], 'c', ARGV[6], 'u', ARGV[7], 'v', ARGV[8], 'n', count, 'l', ARGV[9], 'k', ARGV[10], 'e', epoch)
        if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[3]) end
        if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[5]) end
        redis.call('ZADD', KEYS[4], ARGV[10], ARGV[12])
        for p in string.gmatch(ARGV[2], '[^\n]+') do
          redis.call('ZADD', ARGV[11] .. ':p:' .. p, ARGV[10], ARGV[12])
        end
        hint(ARGV[19], ARGV[11], ARGV[12])
        if cur[2] then return 2 end
        if KEYS[8] and redis.call('HEXISTS', KEYS[8], 'n') == 1 then
          redis.call('HINCRBY', KEYS[8], 'n', 1)
          redis.call('HINCRBY', KEYS[8], 'e', 1)
        end
        return 1
        """;
}

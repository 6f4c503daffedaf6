namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The Lua of the change feed and read cursors (<see cref="RedisReadCursors"/>, <see cref="RedisFeedHints"/>): the
/// cursor scripts over one session's record (<c>KEYS[1]</c>) and cursors (<c>KEYS[2]</c>), and the hint every script
/// that adds messages to a session or ends its life sends from inside itself (one round trip, and atomic with the write:
/// no watcher can read the store between the write and its hint and miss it).
/// </summary>
internal static class FeedScripts
{
    /// <summary>
    /// Publishes the session id on the bucket's feed channel: <c>SPUBLISH</c> when <c>mode</c> is <c>'s'</c> (Redis
    /// Cluster 7.0 and later: the hint stays on the bucket's shard, the channel's hash tag being the script's slot),
    /// <c>PUBLISH</c> otherwise. A publish nobody hears costs the server a dictionary lookup.
    /// </summary>
    public const string HintFunction = """
        local function hint(mode, base, id)
          if mode == 's' then redis.call('SPUBLISH', base .. ':feed', id) else redis.call('PUBLISH', base .. ':feed', id) end
        end

        """;

    /// <summary>
    /// Moves a participant's cursor (ARGV[1]) forward to ARGV[2], checked against the session's last sequence in the
    /// same step: {1, cursor after the call}, {-1} when there is no session, {-2, last sequence} when ARGV[2] is above
    /// it, {-3} when the stored cursor is not a number (nothing changed in the last two).
    /// </summary>
    public const string MarkRead = """
        local l = redis.call('HGET', KEYS[1], 'l')
        if not l then return {-1} end
        local wanted = tonumber(ARGV[2])
        if wanted > tonumber(l) then return {-2, l} end
        local raw = redis.call('HGET', KEYS[2], ARGV[1])
        local cursor = 0
        if raw then
          cursor = tonumber(raw)
          if not cursor then return {-3} end
        end
        if wanted > cursor then
          redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
          return {1, ARGV[2]}
        end
        return {1, raw or '0'}
        """;

    /// <summary>The session's cursors as HGETALL gives them (participant, sequence, …); nil when there is no session.</summary>
    public const string ReadCursors = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        return redis.call('HGETALL', KEYS[2])
        """;
}

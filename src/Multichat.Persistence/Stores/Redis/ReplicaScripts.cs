namespace Multichat.Persistence.Stores.Redis;

/// <summary>The Lua of the reads a replica answers (<see cref="RedisReplicaReads"/>): each returns, with its data, what the
/// replica's copy of the session has reached, so the answer is checked against this instance's own writes in the same round trip.</summary>
internal static class ReplicaScripts
{
    /// <summary>
    /// <see cref="MessageScripts.Read"/> plus the session's head: KEYS[1] the record, KEYS[2] its messages; ARGV as there.
    /// Returns nil when there is no session, else {created ticks, last sequence, version, members}.
    /// </summary>
    public const string Read = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        local head = redis.call('HMGET', KEYS[1], 'c', 'l', 'v')
        local members
        if ARGV[3] == '1' then
          members = redis.call('ZRANGE', KEYS[2], ARGV[2], ARGV[1], 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[4])
        else
          members = redis.call('ZRANGE', KEYS[2], ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[4])
        end
        return {head[1] or '', head[2] or '', head[3] or '', members}
        """;
}

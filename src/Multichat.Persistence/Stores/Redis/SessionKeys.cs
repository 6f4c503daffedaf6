using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>The keys of one session and of its bucket's indexes; all share one hash slot (see <see cref="RedisKeys"/>).</summary>
internal readonly record struct SessionKeys(string Base, string SessionId, RedisKey Recent, RedisKey Stats)
{
    public RedisKey Meta => Base + ":m:" + SessionId;

    public RedisKey Messages => Base + ":q:" + SessionId;

    public RedisKey Ids => Base + ":i:" + SessionId;

    public RedisKey Cursors => Base + ":r:" + SessionId;
}

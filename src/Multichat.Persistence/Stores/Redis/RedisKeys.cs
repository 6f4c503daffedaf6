using System.Globalization;
using System.IO.Hashing;
using System.Text;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The key layout of the Redis store. Sessions are spread over <see cref="BucketCount"/> buckets by a hash of their id;
/// every key of a bucket (the sessions' records, messages and id maps, and the bucket's own recency, participant and
/// statistics indexes) carries the bucket's hash tag, so one Lua script can change a session and its index entries
/// atomically, on a single node and on Redis Cluster alike.
/// </summary>
/// <remarks>
/// <para>Keys of bucket <c>NN</c> (two hex digits) under prefix <c>P</c>, with <c>B = P{bNN}</c>:</para>
/// <list type="bullet">
/// <item><c>B:m:&lt;sessionId&gt;</c> hash: the session record (<c>p</c> participants joined by LF, <c>t</c> title,
/// <c>m</c> metadata JSON, <c>c</c>/<c>u</c> created/updated UTC ticks, <c>v</c> version, <c>n</c> message count,
/// <c>l</c> last sequence, <c>k</c> the activity score the indexes hold for it, <c>e</c> its epoch for the read cache,
/// absent before epochs existed).</item>
/// <item><c>B:q:&lt;sessionId&gt;</c> sorted set: messages, score = sequence, member = <c>seq LF id LF json</c>.</item>
/// <item><c>B:i:&lt;sessionId&gt;</c> hash: message id → sequence, for idempotent appends.</item>
/// <item><c>B:r:&lt;sessionId&gt;</c> hash: participant → read cursor (the highest sequence it marked read); only
/// participants that marked anything. Every script that ends a session's life (delete, eviction, a replacing import
/// or restore) removes it, finding it as it finds the participant indexes, from the bucket's base and the id; a create
/// removes a leftover too.</item>
/// <item><c>B:recent</c> sorted set: session ids by last activity (UTC milliseconds since 0001-01-01).</item>
/// <item><c>B:p:&lt;participant&gt;</c> sorted set: that participant's session ids by last activity.</item>
/// <item><c>B:stats</c> hash: <c>messages</c>, the number of messages the bucket's sessions hold.</item>
/// </list>
/// <para>The change feed's channel of bucket <c>NN</c> is <c>B:feed</c> (no key: a pub/sub channel, see
/// <see cref="RedisFeedHints"/>): the scripts that add messages to a session or end its life publish the session id
/// there, with <c>SPUBLISH</c> on Redis Cluster (the channel's hash tag is the bucket's, so it is the script's slot) and
/// <c>PUBLISH</c> elsewhere.</para>
/// <para>Store-wide, under their own hash tag <c>{sessions}</c> (see <see cref="RedisSessionLimit"/>):</para>
/// <list type="bullet">
/// <item><c>P{sessions}:count</c> hash: <c>n</c> the number of sessions, <c>e</c> how often <c>n</c> changed.</item>
/// <item><c>P{sessions}:creating</c>, <c>P{sessions}:deleting</c> sorted sets: the leases of creates and deletes under
/// way on a cluster, score = server time in milliseconds when taken.</item>
/// </list>
/// The id is the last part of each key, after a fixed kind marker, so no two sessions (or kinds) share a key whatever
/// characters ids hold; only the first <c>{…}</c> of a key is its hash tag, and that is always the bucket's.
/// </remarks>
internal sealed class RedisKeys
{
    /// <summary>How many buckets sessions are spread over: the most cluster nodes the data spreads to, and the number
    /// of index reads one listing page costs.</summary>
    public const int BucketCount = 16;

    private readonly string[] _bases;
    private readonly RedisKey[] _recent;
    private readonly RedisKey[] _stats;
    private readonly RedisKey[] _limitKeys;

    public RedisKeys(string prefix)
    {
        Prefix = prefix;
        _bases = new string[BucketCount];
        _recent = new RedisKey[BucketCount];
        _stats = new RedisKey[BucketCount];
        for (var i = 0; i < BucketCount; i++)
        {
            _bases[i] = string.Create(CultureInfo.InvariantCulture, $"{prefix}{{b{i:x2}}}");
            _recent[i] = _bases[i] + ":recent";
            _stats[i] = _bases[i] + ":stats";
        }

        var counterBase = prefix + "{sessions}";
        SessionCount = counterBase + ":count";
        Creating = counterBase + ":creating";
        Deleting = counterBase + ":deleting";

        // The create script's keys on a single node: the counter, then every bucket's recency index (counted there).
        _limitKeys = [SessionCount, .. _recent];
    }

    /// <summary>The store-wide session counter (a hash: <c>n</c> sessions, <c>e</c> changes of <c>n</c>).</summary>
    public RedisKey SessionCount { get; }

    /// <summary>The leases of creates under way on a cluster.</summary>
    public RedisKey Creating { get; }

    /// <summary>The leases of deletes under way on a cluster.</summary>
    public RedisKey Deleting { get; }

    /// <summary>The counter followed by every bucket's recency index, the keys a single-node create counts sessions with.</summary>
    public ReadOnlySpan<RedisKey> LimitKeys => _limitKeys;

    public string Prefix { get; }

    /// <summary>The key prefix shared by every key of bucket <paramref name="bucket"/> (its hash tag included).</summary>
    public string Base(int bucket) => _bases[bucket];

    public static int BucketOf(string sessionId)
    {
        // Ids are at most 256 UTF-16 characters, so at most 768 UTF-8 bytes.
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(sessionId.Length)];
        var length = Encoding.UTF8.GetBytes(sessionId, bytes);
        return (int)(XxHash32.HashToUInt32(bytes[..length]) % BucketCount);
    }

    public SessionKeys For(string sessionId)
    {
        var bucket = BucketOf(sessionId);
        return new SessionKeys(_bases[bucket], sessionId, _recent[bucket], _stats[bucket]);
    }

    public RedisKey Recent(int bucket) => _recent[bucket];

    /// <summary>The name of bucket <paramref name="bucket"/>'s feed channel (the scripts build it from the base the same way).</summary>
    public string FeedChannel(int bucket) => _bases[bucket] + ":feed";

    public RedisKey Participant(int bucket, string participant) => _bases[bucket] + ":p:" + participant;

    public RedisKey Stats(int bucket) => _stats[bucket];
}

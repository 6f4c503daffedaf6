using Multichat.Persistence.Caching;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The read cache's head check on Redis: one HMGET of four fields of the session hash, on the primary. Every write
/// script keeps the version, last sequence and message count in the hash, so no message key is read.
/// </summary>
internal static class RedisSessionHeads
{
    // e epoch (absent in records written before epochs existed: 0), v version, l last sequence, n message count.
    private static readonly RedisValue[] HeadFields = ["e", "v", "l", "n"];

    public static async Task<SessionHead?> GetAsync(RedisStoreContext context, string sessionId, CancellationToken cancellationToken)
    {
        var keys = context.Keys.For(sessionId);

        // The primary whatever ReadFrom says: a replica may lag behind a write that has completed, and a head older
        // than that write would let the cache keep serving what the write replaced.
        var fields = await context.Runner.RunAsync(db => db.HashGetAsync(keys.Meta, HeadFields, CommandFlags.DemandMaster), cancellationToken)
            .ConfigureAwait(false);

        // Gone only when no field is there, as GetSessionAsync decides: a record that lost a counter is damaged.
        if (Array.TrueForAll(fields, f => f.IsNull))
        {
            return null;
        }

        return new SessionHead(fields[0].IsNull ? 0 : Long(fields[0]), Long(fields[1]), Long(fields[2]), Long(fields[3]));
    }

    // RedisValue.TryParse takes a missing field for 0; here it is a damaged record.
    private static long Long(RedisValue field) =>
        !field.IsNull && field.TryParse(out long value) ? value : throw RedisRecordCodec.Corrupted("a session", null);
}

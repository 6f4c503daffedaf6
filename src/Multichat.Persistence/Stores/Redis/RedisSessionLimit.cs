using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Keeps the store-wide session count on Redis Cluster, where the count (its own hash slot) and a session (its
/// bucket's slot) cannot be changed by one script. A create takes a lease first (refused when the count plus the
/// leases under way reach the limit), then creates, then settles (the lease goes, the count grows); a delete takes a
/// lease, deletes, settles. Every step that can be lost (a crash, a timeout of unknown outcome) leaves the count too
/// high, never too low, so the store never holds more than the limit; a count that is too high is recounted from the
/// bucket indexes when it says "full" (see <see cref="RecountAsync"/> for why that recount is safe).
/// </summary>
/// <remarks>On a single node the create script counts the bucket indexes itself, atomically; this class is not used
/// there, but the scripts there keep <c>n</c> right when it exists, so a store can move between the two.</remarks>
internal sealed class RedisSessionLimit(RedisScriptRunner runner, RedisKeys keys, TimeSpan leaseTime, ILogger logger)
{
    // Returns 1 when the lease is taken; {0, e} when the count (n + creates under way) has reached the limit; {-1}
    // when there is no count yet (data written before it existed, or the key was removed); {-1, e} when n is not a
    // count (garbage, or below zero: written by something else), so the recount may replace it. A negative count
    // left alone would let creates past the limit without ever recounting.
    private const string ReserveScript = """
        local raw = redis.call('HGET', KEYS[1], 'n')
        if not raw then return {-1} end
        local n = tonumber(raw)
        if not n or n < 0 then return {-1, redis.call('HGET', KEYS[1], 'e') or ''} end
        if ARGV[1] == 'c' then
          local max = tonumber(ARGV[3])
          if max > 0 and n + redis.call('ZCARD', KEYS[2]) >= max then
            return {0, redis.call('HGET', KEYS[1], 'e') or ''}
          end
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if ARGV[1] == 'c' then redis.call('ZADD', KEYS[2], now, ARGV[2]) else redis.call('ZADD', KEYS[3], now, ARGV[2]) end
        return {1}
        """;

    // A growth is always applied (a create whose lease expired still happened); a shrink only while its lease is
    // held (an expired delete lease may already have been accounted for by a recount): when in doubt, count high.
    private const string SettleScript = """
        local held = redis.call('ZREM', KEYS[2], ARGV[1])
        local delta = tonumber(ARGV[2])
        if delta == 0 or (delta < 0 and held == 0) then return 0 end
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        redis.call('HINCRBY', KEYS[1], 'n', delta)
        redis.call('HINCRBY', KEYS[1], 'e', 1)
        return 1
        """;

    // Applies a recount only when n did not change since e was read (ARGV[1], '' = there was no count), drops leases
    // older than the lease time (their owners are gone) and counts the deletes still under way as not done yet. With
    // ARGV[4] = '1' (a count that exists and says full) it gives up while any lease is live: see RecountAsync.
    private const string RecountScript = """
        local e = redis.call('HGET', KEYS[1], 'e')
        if (e or '') ~= ARGV[1] then return 0 end
        local t = redis.call('TIME')
        local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[3])
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cutoff)
        if ARGV[4] == '1' and redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3]) > 0 then return 0 end
        redis.call('HSET', KEYS[1], 'n', tonumber(ARGV[2]) + redis.call('ZCARD', KEYS[3]), 'e', (tonumber(e) or 0) + 1)
        return 1
        """;

    // A missing count is initialised by the first caller; only a count key changed by something else keeps missing.
    private const int MaxAttempts = 4;

    private readonly RedisValue _leaseMilliseconds = (long)leaseTime.TotalMilliseconds;

    /// <summary>Takes a create lease, recounting once when the count says full or is missing.</summary>
    /// <exception cref="QuotaExceededException">The store holds <paramref name="maxSessions"/> sessions (with creates under way).</exception>
    public async Task<Lease> ReserveCreateAsync(int maxSessions, CancellationToken cancellationToken) =>
        await TryReserveCreateAsync(maxSessions, cancellationToken).ConfigureAwait(false) ?? throw QuotaExceededException.ForSessions(maxSessions);

    /// <summary>Takes a create lease, recounting once when the count says full or is missing; <see langword="null"/>
    /// when the store holds <paramref name="maxSessions"/> sessions (with creates under way), so a create that evicts
    /// knows to make room first.</summary>
    public async Task<Lease?> TryReserveCreateAsync(int maxSessions, CancellationToken cancellationToken)
    {
        var lease = new Lease(keys.Creating, NewToken());
        var recounted = false;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var result = (RedisResult[])(await runner.EvaluateAsync(
                ReserveScript, [keys.SessionCount, keys.Creating, keys.Deleting], ["c", lease.Token, Math.Max(maxSessions, 0)], cancellationToken)
                .ConfigureAwait(false))!;
            switch ((int)result[0])
            {
                case 1:
                    return lease;
                case -1:
                    await RecountAsync(DamagedEpoch(result), quiet: false, cancellationToken).ConfigureAwait(false);
                    continue;
                default:
                    if (recounted || !await RecountAsync((string?)result[1] ?? string.Empty, quiet: true, cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }

                    recounted = true;
                    continue;
            }
        }

        throw Unsettled();
    }

    /// <summary>Takes a delete lease (a delete never waits for room); initialises a missing count first.</summary>
    public async Task<Lease> ReserveDeleteAsync(CancellationToken cancellationToken)
    {
        var lease = new Lease(keys.Deleting, NewToken());
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var result = (RedisResult[])(await runner.EvaluateAsync(
                ReserveScript, [keys.SessionCount, keys.Creating, keys.Deleting], ["d", lease.Token, 0], cancellationToken).ConfigureAwait(false))!;
            if ((int)result[0] == 1)
            {
                return lease;
            }

            await RecountAsync(DamagedEpoch(result), quiet: false, cancellationToken).ConfigureAwait(false);
        }

        throw Unsettled();
    }

    /// <summary>
    /// Ends a lease whose operation got a definite answer: <paramref name="delta"/> sessions more (1), fewer (-1) or
    /// the same (0). Best effort: the operation itself is done, so a failure here is logged, not thrown; the lease then
    /// stays until it expires, which keeps the count high (safe) until a recount.
    /// </summary>
    public async Task SettleAsync(Lease lease, int delta)
    {
        try
        {
            await runner.EvaluateAsync(SettleScript, [keys.SessionCount, lease.Set], [lease.Token, delta], CancellationToken.None).ConfigureAwait(false);
        }
        catch (SessionPersistenceException ex)
        {
            RedisLog.SessionCountNotSettled(logger, ex);
        }
    }

    /// <summary>
    /// Sets the count to the sum of the bucket indexes, if the count did not change meanwhile: the epoch <c>e</c> (read
    /// before the indexes) changes with every settle, so a settle between the index reads and this write makes it give
    /// up instead of being overwritten.
    /// </summary>
    /// <remarks>
    /// A create or delete under way while the indexes are read could be counted twice (a create that landed before its
    /// bucket was read is in the indexes and holds a lease; a delete that had not run yet is in the indexes and is
    /// counted as not done), leaving the count one high after it settles. So a count that exists and says full is
    /// recounted only while no lease is live (<paramref name="quiet"/>): then every operation that ran since the epoch
    /// was read has settled, and changed the epoch if it changed anything, so an applied recount is exact. This matters
    /// most under eviction, where a count that is too high would evict sessions that need not go. A missing or damaged
    /// count is recounted even with leases live (it must be initialised; it errs high, as ever).
    /// </remarks>
    /// <returns>Whether the recount was applied.</returns>
    private async Task<bool> RecountAsync(string expectedEpoch, bool quiet, CancellationToken cancellationToken)
    {
        var indexed = await IndexedCountAsync(cancellationToken).ConfigureAwait(false);
        var applied = await runner.EvaluateAsync(
            RecountScript, [keys.SessionCount, keys.Creating, keys.Deleting], [expectedEpoch, indexed, _leaseMilliseconds, quiet ? "1" : "0"], cancellationToken)
            .ConfigureAwait(false);
        return (int)applied == 1;
    }

    private async Task<long> IndexedCountAsync(CancellationToken cancellationToken)
    {
        var calls = new Task<long>[RedisKeys.BucketCount];
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            var index = keys.Recent(bucket);
            calls[bucket] = runner.RunAsync(db => db.SortedSetLengthAsync(index), cancellationToken);
        }

        return (await Task.WhenAll(calls).ConfigureAwait(false)).Sum();
    }

    // The epoch to recount against: the one the script read beside a count that is not one, or none (no count yet).
    private static string DamagedEpoch(RedisResult[] result) => result.Length > 1 ? (string?)result[1] ?? string.Empty : string.Empty;

    private static StoreCorruptedException Unsettled() => new(
        "The Redis store's session count (key '{sessions}:count' under the prefix) has a shape the store did not write. Delete that key; it is rebuilt from the session indexes.");

    private static string NewToken() => Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);

    /// <summary>A lease under way: the set it is in and its token.</summary>
    public readonly record struct Lease(RedisKey Set, string Token);
}

using FluentAssertions;
using Multichat.Persistence.Stores.Redis;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The checks the fault tests make after every fault: a session's integrity (gapless sequences, unique ids, counts and
/// id map matching its messages) and the store-wide session count against the sessions that exist, with its leases.
/// </summary>
internal static class RedisStoreChecks
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<List<ChatMessage>> ReadAllAsync(SessionPersistence store, string sessionId)
    {
        var all = new List<ChatMessage>();
        MessageQuery? query = new() { Limit = 1000 };
        while (query is not null)
        {
            var page = await store.GetMessagesAsync(sessionId, query, Ct);
            all.AddRange(page.Messages);
            query = page.Next;
        }

        return all;
    }

    /// <summary>Checks one session's keys agree; returns its messages, or <see langword="null"/> when it does not exist.</summary>
    public static async Task<List<ChatMessage>?> CheckSessionAsync(SessionPersistence store, IDatabase db, RedisKeys keys, string sessionId, string because)
    {
        var record = await store.GetSessionAsync(sessionId, Ct);
        var sessionKeys = keys.For(sessionId);
        if (record is null)
        {
            (await db.KeyExistsAsync([sessionKeys.Messages, sessionKeys.Ids])).Should().Be(0, "a deleted session leaves no messages or id map ({0})", because);
            (await db.SortedSetScoreAsync(sessionKeys.Recent, sessionId)).Should().BeNull("a deleted session leaves no index entry ({0})", because);
            return null;
        }

        var all = await ReadAllAsync(store, sessionId);
        all.Select(m => m.Id).Should().OnlyHaveUniqueItems("no message is stored twice ({0})", because);
        if (all.Count > 0)
        {
            all.Select(m => m.Sequence).Should().Equal(Enumerable.Range((int)all[0].Sequence, all.Count).Select(i => (long)i), "sequences are gapless ({0})", because);
            all[^1].Sequence.Should().BeLessThanOrEqualTo(record.LastSequence, "no message is above the last issued sequence ({0})", because);
        }

        record.MessageCount.Should().Be(all.Count, "the record counts what is stored ({0})", because);
        (await db.HashLengthAsync(sessionKeys.Ids)).Should().Be(all.Count, "the id map has one entry per message ({0})", because);
        (await db.SortedSetScoreAsync(sessionKeys.Recent, sessionId)).Should().NotBeNull("an existing session is indexed ({0})", because);
        return all;
    }

    /// <summary>The session count <c>n</c> (null when there is none), the leases, and the sessions the bucket indexes hold.</summary>
    public static async Task<(long? Count, long Creating, long Deleting, long Existing)> CountsAsync(IDatabase db, RedisKeys keys)
    {
        var n = await db.HashGetAsync(keys.SessionCount, "n");
        long existing = 0;
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            existing += await db.SortedSetLengthAsync(keys.Recent(bucket));
        }

        return (n.IsNull ? null : (long)n, await db.SortedSetLengthAsync(keys.Creating), await db.SortedSetLengthAsync(keys.Deleting), existing);
    }

    /// <summary>The count never says fewer sessions than exist beyond the creates under way, nor more than exist beyond the deletes under way.</summary>
    public static async Task CheckCountBoundsAsync(IDatabase db, RedisKeys keys, string because)
    {
        var (n, creating, deleting, existing) = await CountsAsync(db, keys);
        if (n is not { } count)
        {
            return;
        }

        existing.Should().BeLessThanOrEqualTo(count + creating, "a lost step only ever counts high: never more sessions than counted plus creates under way ({0})", because);
        count.Should().BeLessThanOrEqualTo(existing + creating + deleting, "the count is off by at most the leases under way ({0})", because);
    }

    /// <summary>
    /// Ages every lease past its expiry (as if its owner stopped two hours ago), then makes a create find the store
    /// full by the count plus its leases, which recounts: afterwards the leases are gone and the count is exact.
    /// </summary>
    public static async Task ExpireLeasesAndCheckExactCountAsync(string connectionString, string prefix, IDatabase db, RedisKeys keys)
    {
        var old = (DateTime.UtcNow.AddHours(-2) - DateTime.UnixEpoch).TotalMilliseconds;
        foreach (var set in new[] { keys.Creating, keys.Deleting })
        {
            foreach (var lease in await db.SortedSetRangeByRankAsync(set))
            {
                await db.SortedSetAddAsync(set, lease, old);
            }
        }

        var (count, creating, _, _) = await CountsAsync(db, keys);
        if (count is not { } n)
        {
            return; // a single node keeps no count unless one was made on a cluster
        }

        await using (var limited = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = connectionString,
            RedisKeyPrefix = prefix,
            MaxSessions = (int)Math.Max(1, n + creating),
        }))
        {
            try
            {
                await limited.CreateSessionAsync("recount-" + Guid.NewGuid().ToString("N")[..8], ["a"], cancellationToken: Ct);
            }
            catch (QuotaExceededException)
            {
                // Exactly full once recounted: the recount is what is checked.
            }
        }

        var (exact, leases, deletes, existing) = await CountsAsync(db, keys);
        (leases + deletes).Should().Be(0, "expired leases are dropped by the recount");
        exact.Should().Be(existing, "the count agrees with the sessions that exist once the leases are settled or expired");
    }
}

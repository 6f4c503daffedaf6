using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using FluentAssertions;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Tests.Infrastructure;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The Redis store's atomic session replacement (a restore's step per session), on whichever deployment the fixture
/// runs: what readers see while the new messages are staged, what a failure leaves, counters and indexes after it, and
/// the SIGKILL check (<see cref="RestoreKillCheck"/>). Run by <see cref="RedisReplacementTests"/> (single node)
/// and <see cref="RedisClusterReplacementTests"/>.
/// </summary>
internal static class RedisReplacementScenarios
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static int Rounds =>
        int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var rounds) && rounds > 0 ? rounds : 3;

    public static SessionPersistence Open(RedisFixture redis, string prefix) => SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Redis,
        ConnectionString = redis.ConnectionString,
        RedisKeyPrefix = prefix,
    });

    public static async Task WhileBatchesStream_ReadersSeeTheOldSessionThenTheNewWholeAsync(RedisFixture redis, string prefix)
    {
        await using var store = Open(redis, prefix);
        await using var reader = Open(redis, prefix);
        await SeedOldAsync(store, "s-1");
        var seen = new List<(string? Title, long Count, int Read)>();

        await Replacer(store).ReplaceSessionAsync(Archived("s-1"), BatchesAsync("s-1", 3, 1000, async () =>
        {
            var session = (await reader.GetSessionAsync("s-1", Ct))!;
            seen.Add((session.Title, session.MessageCount, (await StoredMessages.ReadAllAsync(reader, "s-1", Ct)).Count));
        }), Ct);

        seen.Should().Equal(Enumerable.Repeat<(string? Title, long Count, int Read)>(("old", 3L, 3), 3), "readers see the old session until the new one is whole");
        var after = (await reader.GetSessionAsync("s-1", Ct))!;
        after.Should().BeEquivalentTo(new { Title = "new", MessageCount = 3000L, LastSequence = 3000L, Version = 7L });
        (await StoredMessages.ReadAllAsync(reader, "s-1", Ct)).Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, 3000).Select(i => (long)i));
        (await reader.ListSessionsAsync(new SessionQuery { Participant = "new-p" }, Ct)).Sessions.Select(s => s.SessionId).Should().Equal("s-1");
        (await reader.ListSessionsAsync(new SessionQuery { Participant = "old-p" }, Ct)).Sessions.Should().BeEmpty("the old participants' index entries went with the old session");
        (await reader.Store.GetStatisticsAsync(Ct)).Should().BeEquivalentTo(new { SessionCount = 1L, MessageCount = 3000L });
        (await StagedKeysAsync(redis, prefix)).Should().BeEmpty("the staged keys became the live ones");
    }

    public static async Task BatchesThrow_LeavesTheOldSessionAndNoStagedKeysAsync(RedisFixture redis, string prefix)
    {
        await using var store = Open(redis, prefix);
        await SeedOldAsync(store, "s-1");
        var before = await SnapshotAsync(store, "s-1");

        var act = () => Replacer(store).ReplaceSessionAsync(
            Archived("s-1"), BatchesAsync("s-1", 3, 1000, () => throw new IOException("the archive broke")), Ct);

        await act.Should().ThrowAsync<IOException>();
        (await SnapshotAsync(store, "s-1")).Should().Be(before);
        (await store.Store.GetStatisticsAsync(Ct)).Should().BeEquivalentTo(new { SessionCount = 1L, MessageCount = 3L });
        (await StagedKeysAsync(redis, prefix)).Should().BeEmpty("a failed replacement removes what it staged");
    }

    public static async Task StagedKeys_HaveATimeToLiveAsync(RedisFixture redis, string prefix)
    {
        await using var store = Open(redis, prefix);
        var ttls = new List<TimeSpan?>();

        await Replacer(store).ReplaceSessionAsync(Archived("s-1"), BatchesAsync("s-1", 2, 1000, async () =>
        {
            foreach (var key in await StagedKeysAsync(redis, prefix))
            {
                ttls.Add(await redis.Admin.GetDatabase().KeyTimeToLiveAsync(key));
            }
        }), Ct);

        ttls.Should().HaveCount(4, "two staged keys (messages, ids), seen after each of two batches")
            .And.OnlyContain(t => t > TimeSpan.FromMinutes(59) && t <= TimeSpan.FromHours(1), "a killed restore leaves only keys that expire");
        (await redis.Admin.GetDatabase().KeyTimeToLiveAsync(prefix + "{b" + BucketOf("s-1") + "}:q:s-1")).Should().BeNull("live keys never expire");
    }

    public static async Task MissingSession_IsCreatedCountedOnceAndItsIdsRecognisedAsync(RedisFixture redis, string prefix, bool countKeyExpected)
    {
        await using var store = Open(redis, prefix);
        await store.CreateSessionAsync("other", ["a"], cancellationToken: Ct);

        await Replacer(store).ReplaceSessionAsync(Archived("s-1"), BatchesAsync("s-1", 2, 10, () => Task.CompletedTask), Ct);
        await Replacer(store).ReplaceSessionAsync(Archived("s-1"), BatchesAsync("s-1", 1, 5, () => Task.CompletedTask), Ct);
        var retry = await store.AddMessageAsync(new ChatMessage { Id = "m-3", SessionId = "s-1", Sender = "a", Content = "again" }, Ct);

        retry.Sequence.Should().Be(3, "a retry of an archived message id is recognised as stored");
        retry.Content.Should().Be("content of m-3");
        (await StoredMessages.ReadAllAsync(store, "s-1", Ct)).Should().HaveCount(5);
        (await store.Store.GetStatisticsAsync(Ct)).Should().BeEquivalentTo(new { SessionCount = 2L, MessageCount = 5L });
        var count = await redis.Admin.GetDatabase().HashGetAsync(prefix + "{sessions}:count", "n");
        if (countKeyExpected || !count.IsNull)
        {
            ((long)count).Should().Be(2, "a new session counts once, a replaced one not again");
        }
    }

    public static async Task RestoreKilledHalfWay_LeavesEachSessionAsItWasOrAsArchivedAsync(RedisFixture redis, string deployment)
    {
        var output = TestContext.Current.TestOutputHelper;
        for (var round = 0; round < Rounds; round++)
        {
            var prefix = "k" + Guid.NewGuid().ToString("N")[..12] + ":";
            var killAfter = 2000 + (round * 2500 % 8000);
            try
            {
                var started = Stopwatch.StartNew();
                var (asArchive, asBefore) = await RestoreKillCheck.RunAsync(() => Open(redis, prefix), ["Redis", redis.ConnectionString, prefix], killAfter, Ct);
                var leftovers = await StagedKeysAsync(redis, prefix);
                foreach (var key in leftovers)
                {
                    (await redis.Admin.GetDatabase().KeyTimeToLiveAsync(key)).Should().BePositive("what the killed worker staged expires on its own");
                }

                output?.WriteLine($"{deployment} round {round}: killed after {killAfter} messages: {asArchive} sessions as archived, {asBefore} as before, {leftovers.Count} staged keys of the killed worker left to expire ({started.Elapsed.TotalSeconds:F1} s)");
            }
            finally
            {
                await redis.DeleteKeysAsync(prefix);
            }
        }
    }

    /// <summary>
    /// The conformance test's "a restore cancelled while replacing a session leaves that session as it was", whatever
    /// order the archive holds the sessions in (this store backs sessions up by bucket, so s-2 comes before s-1 and the
    /// conformance test, which expects s-2 second, sees s-2 restored whole before the cancel).
    /// </summary>
    public static async Task RestoreCancelledInTheSecondSession_LeavesItAsItWasAsync(RedisFixture redis, string prefix)
    {
        await using var store = Open(redis, prefix);
        string[] ids = ["s-1", "s-2"];
        foreach (var id in ids)
        {
            await store.CreateSessionAsync(id, ["a"], title: "archived", cancellationToken: Ct);
            foreach (var chunk in Enumerable.Range(1, 2500).Chunk(500))
            {
                await store.AddMessagesAsync(id, [.. chunk.Select(i => new ChatMessage { Id = $"m-{i}", SessionId = id, Sender = "a", Content = "archived" })], Ct);
            }
        }

        using var backup = new MemoryStream();
        await store.BackupAsync(backup, Ct);
        var changed = new Dictionary<string, string>();
        foreach (var id in ids)
        {
            await store.DeleteSessionAsync(id, Ct);
            await SeedOldAsync(store, id);
            changed[id] = await SnapshotAsync(store, id);
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var act = () => store.RestoreAsync(
            new MemoryStream(backup.ToArray()), RestoreMode.Replace, new SynchronousProgress(p => { if (p.SessionsDone == 1 && p.MessagesDone > 2500) { cancel.Cancel(); } }), cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        var untouched = new List<string>();
        foreach (var id in ids)
        {
            if (await SnapshotAsync(store, id) == changed[id])
            {
                untouched.Add(id);
            }
            else
            {
                (await StoredMessages.ReadAllAsync(store, id, Ct)).Should().HaveCount(2500, "the session restored before the cancel is whole");
            }
        }

        untouched.Should().ContainSingle("the session being replaced when the restore was cancelled is as it was");
        (await store.Store.GetStatisticsAsync(Ct)).Should().BeEquivalentTo(new { SessionCount = 2L, MessageCount = 2503L });
        (await StagedKeysAsync(redis, prefix)).Should().BeEmpty("a cancelled replacement removes what it staged");
    }

    private static ISessionReplacer Replacer(SessionPersistence store) => (ISessionReplacer)store.Store;

    private static string BucketOf(string sessionId) =>
        Multichat.Persistence.Stores.Redis.RedisKeys.BucketOf(sessionId).ToString("x2", CultureInfo.InvariantCulture);

    private static async Task SeedOldAsync(SessionPersistence store, string id)
    {
        await store.CreateSessionAsync(id, ["old-p"], title: "old", cancellationToken: Ct);
        await store.AddMessagesAsync(id, [.. Enumerable.Range(1, 3).Select(i => new ChatMessage { Id = $"old-{i}", SessionId = id, Sender = "old-p", Content = "old" })], Ct);
    }

    private static ChatSession Archived(string id)
    {
        var at = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        return new ChatSession { SessionId = id, Participants = ["new-p"], Title = "new", CreatedAt = at, UpdatedAt = at, Version = 7 };
    }

    /// <summary><paramref name="batches"/> batches of <paramref name="size"/> messages (sequences from 1), calling
    /// <paramref name="between"/> after each batch has been taken (so while the store stages it or the next).</summary>
    private static async IAsyncEnumerable<IReadOnlyList<ChatMessage>> BatchesAsync(
        string id, int batches, int size, Func<Task> between, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var at = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        for (var b = 0; b < batches; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return [.. Enumerable.Range((b * size) + 1, size).Select(i => new ChatMessage
            {
                Id = $"m-{i}", SessionId = id, Sequence = i, Sender = "new-p", Content = $"content of m-{i}", Timestamp = at,
            })];
            await between();
        }
    }

    private static async Task<string> SnapshotAsync(SessionPersistence store, string id) =>
        System.Text.Json.JsonSerializer.Serialize(await store.GetSessionAsync(id, Ct)) + "\n"
        + string.Join('\n', (await StoredMessages.ReadAllAsync(store, id, Ct)).Select(m => System.Text.Json.JsonSerializer.Serialize(m)));

    private sealed class SynchronousProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }

    private static async Task<List<RedisKey>> StagedKeysAsync(RedisFixture redis, string prefix)
    {
        var keys = new List<RedisKey>();
        foreach (var server in redis.Admin.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
            {
                continue;
            }

            await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
            {
                var text = (string)key!;
                if (text.Contains(":rq:", StringComparison.Ordinal) || text.Contains(":ri:", StringComparison.Ordinal))
                {
                    keys.Add(key);
                }
            }
        }

        return keys;
    }
}

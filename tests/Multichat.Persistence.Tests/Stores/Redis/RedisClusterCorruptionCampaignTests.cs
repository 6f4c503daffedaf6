using FluentAssertions;
using Multichat.Persistence.Stores.Redis;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The corruption campaign over the cluster's key layout: a session's keys (record, messages, id map) damaged on the
/// cluster, and the store-wide keys only a cluster uses (the session count <c>P{sessions}:count</c> and its leases
/// <c>:creating</c>, <c>:deleting</c>) of the wrong type, with garbage values, or deleted. Every call answers (no hang)
/// with success or a typed exception of the library; a damaged session never hides another (bystanders in its own
/// bucket and in another, the listing, the statistics); a damaged count affects only creates and deletes (they
/// report <see cref="StoreCorruptedException"/> or recount), never reads, appends or other sessions; and once the
/// damaged keys are removed the store recounts and works.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterCorruptionCampaignTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(15);

    private readonly string _prefix = "x" + Guid.NewGuid().ToString("N")[..12] + ":";
    private SessionPersistence? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SessionPersistence Store => _store ??= SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Redis,
        ConnectionString = cluster.ConnectionString,
        RedisKeyPrefix = _prefix,
        MaxSessions = 1000,
    });

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await cluster.DeleteKeysAsync(_prefix);
    }

    [Fact]
    public async Task EveryOperation_DamagedClusterKeys_AnswersTypedAndNeverHidesAnotherSession()
    {
        var keys = new RedisKeys(_prefix);
        var db = cluster.Admin.GetDatabase();
        var damages = Damages(keys);
        var order = Enumerable.Range(0, damages.Count).ToArray();
        new Random(2027).Shuffle(order);
        var table = new List<string>();
        var violations = new List<string>();
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        string[] typed = ["ok", nameof(StoreCorruptedException), nameof(SessionNotFoundException), nameof(QuotaExceededException)];

        for (var n = 0; n < order.Length; n++)
        {
            var (name, damage) = damages[order[n]];
            var victim = $"victim-{n}";
            var near = SameBucketAs(victim, $"near-{n}");
            var far = OtherBucketThan(victim, $"far-{n}");
            foreach (var id in new[] { victim, near, far })
            {
                await Store.CreateSessionAsync(id, ["a"], cancellationToken: Ct);
                await Store.AddMessagesAsync(id, Enumerable.Range(1, 5).Select(i => Message(id, $"m-{i}")).ToArray(), Ct);
            }

            await damage(db, keys.For(victim));

            var results = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["get"] = await ProbeAsync(() => Store.GetSessionAsync(victim, Ct)),
                ["read"] = await ProbeAsync(() => Store.GetMessagesAsync(victim, 50, Ct)),
                ["append"] = await ProbeAsync(() => Store.AddMessageAsync(Message(victim, "new"), Ct)),
                ["retry"] = await ProbeAsync(() => Store.AddMessageAsync(Message(victim, "m-2"), Ct)),
                ["retry duplicates"] = await ProbeAsync(async () =>
                {
                    var page = await Store.GetMessagesAsync(victim, 50, Ct);
                    return page.Count(m => m.Id == "m-2") > 1 ? throw new DuplicateWaitObjectException("m-2") : page;
                }),
                ["trim"] = await ProbeAsync(() => Store.TrimMessagesAsync(victim, 3, Ct)),
                ["create another"] = await ProbeAsync(() => Store.CreateSessionAsync($"new-{n}", ["a"], cancellationToken: Ct)),
                ["delete"] = await ProbeAsync(() => Store.DeleteSessionAsync(victim, Ct)),
            };
            foreach (var (probe, result) in results)
            {
                outcomes[result] = outcomes.GetValueOrDefault(result) + 1;
                var allowed = probe == "retry duplicates" ? ["ok", nameof(StoreCorruptedException), nameof(SessionNotFoundException)] : typed;
                if (!allowed.Contains(result))
                {
                    violations.Add($"{name}: {probe} → {result}");
                }
            }

            // The other sessions, in the victim's bucket and in another one (on another node, most likely).
            var others = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (label, id) in new[] { ("near", near), ("far", far) })
            {
                others[$"{label} get"] = await ProbeAsync(() => Store.GetSessionAsync(id, Ct));
                others[$"{label} read"] = await ProbeAsync(() => Store.GetMessagesAsync(id, 50, Ct));
                others[$"{label} append"] = await ProbeAsync(() => Store.AddMessageAsync(Message(id, "new"), Ct));
                others[$"{label} retry"] = await ProbeAsync(async () =>
                {
                    var again = await Store.AddMessageAsync(Message(id, "m-3"), Ct);
                    return again.Sequence == 3 ? again : throw new DuplicateWaitObjectException("m-3");
                });
            }

            others["list"] = await ProbeAsync(async () =>
            {
                var page = await Store.ListSessionsAsync(new SessionQuery { Limit = 1000 }, Ct);
                // With its bucket's recency index damaged, the near bystander has no index entry to be listed by.
                var nearListed = name.StartsWith("recent index", StringComparison.Ordinal) || page.Sessions.Any(s => s.SessionId == near);
                return nearListed && page.Sessions.Any(s => s.SessionId == far) ? page : throw new InvalidOperationException("a bystander is not listed");
            });
            others["stats"] = await ProbeAsync(() => Store.GetStatisticsAsync(Ct));
            foreach (var (probe, result) in others.Where(o => o.Value != "ok"))
            {
                // A bucket's recency index is shared by the bucket's sessions: of another type, it fails their appends
                // (typed; the message is stored before the index write fails, so a retry answers it) and the store's
                // statistics, which count sessions by it. Other buckets' sessions must not notice.
                var bucketDamage = name.StartsWith("recent index", StringComparison.Ordinal) && (probe.StartsWith("near", StringComparison.Ordinal) || probe == "stats");
                if (!(bucketDamage && result == nameof(StoreCorruptedException)))
                {
                    violations.Add($"{name}: {probe} → {result}");
                }
            }

            var health = await Store.CheckHealthAsync(Ct);

            // Repair: the damaged keys go (the count is rebuilt from the indexes); the store works again.
            await db.KeyDeleteAsync([keys.For(victim).Meta, keys.For(victim).Messages, keys.For(victim).Ids]);
            var recent = keys.For(victim).Recent;
            if (await db.KeyTypeAsync(recent) == RedisType.SortedSet)
            {
                await db.SortedSetRemoveAsync(recent, victim);
            }
            else
            {
                await db.KeyDeleteAsync(recent); // the bucket's other sessions lose their index entries with it
            }

            await db.KeyDeleteAsync([keys.SessionCount, keys.Creating, keys.Deleting]);
            var repaired = await ProbeAsync(async () =>
            {
                await Store.CreateSessionAsync($"after-{n}", ["a"], cancellationToken: Ct);
                return await Store.DeleteSessionAsync($"after-{n}", Ct);
            });
            if (repaired != "ok")
            {
                violations.Add($"{name}: create and delete after the repair → {repaired}");
            }

            table.Add($"{name}: {string.Join(", ", results.Select(r => $"{r.Key} {r.Value}"))}; others {(others.Values.All(v => v == "ok") ? "ok" : "FAILED")}; after repair {repaired}; health {health.Status}");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{order.Length} damages, {order.Length * 8} victim probes: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}\n{string.Join('\n', table)}");
        violations.Should().BeEmpty(string.Join('\n', table));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-50")]
    public async Task CreateSession_CountDamagedOnACluster_IsRecountedFromTheIndexes(string damagedCount)
    {
        var keys = new RedisKeys(_prefix);
        var db = cluster.Admin.GetDatabase();
        for (var i = 0; i < 3; i++)
        {
            await Store.CreateSessionAsync($"s-{i}", ["a"], cancellationToken: Ct);
        }

        await db.HashSetAsync(keys.SessionCount, "n", damagedCount);
        await Store.CreateSessionAsync("s-3", ["a"], cancellationToken: Ct);

        // A garbage count failed every create under MaxSessions; a negative one let creates past the limit unrecounted.
        ((long)await db.HashGetAsync(keys.SessionCount, "n")).Should().Be(4, "the count was rebuilt from the indexes, then grew by the create");
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = "content of " + id };

    private static string SameBucketAs(string victim, string stem)
    {
        for (var i = 0; ; i++)
        {
            if (RedisKeys.BucketOf($"{stem}-{i}") == RedisKeys.BucketOf(victim))
            {
                return $"{stem}-{i}";
            }
        }
    }

    private static string OtherBucketThan(string victim, string stem)
    {
        for (var i = 0; ; i++)
        {
            if (RedisKeys.BucketOf($"{stem}-{i}") != RedisKeys.BucketOf(victim))
            {
                return $"{stem}-{i}";
            }
        }
    }

    private static async Task<string> ProbeAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call().WaitAsync(Hang, Ct);
            return "ok";
        }
        catch (TimeoutException)
        {
            return "hang";
        }
        catch (Exception ex)
        {
            return ex.GetType().Name;
        }
    }

    private static List<(string Name, Func<IDatabase, SessionKeys, Task> Damage)> Damages(RedisKeys store) =>
    [
        ("meta: a string", async (db, k) => { await db.KeyDeleteAsync(k.Meta); await db.StringSetAsync(k.Meta, "garbage"); }),
        ("messages: a string", async (db, k) => { await db.KeyDeleteAsync(k.Messages); await db.StringSetAsync(k.Messages, "garbage"); }),
        ("ids: a list", async (db, k) => { await db.KeyDeleteAsync(k.Ids); await db.ListRightPushAsync(k.Ids, "garbage"); }),
        ("meta: l garbage", (db, k) => db.HashSetAsync(k.Meta, "l", "garbage")),
        ("meta: n garbage", (db, k) => db.HashSetAsync(k.Meta, "n", "abc")),
        ("meta: deleted", (db, k) => db.KeyDeleteAsync(k.Meta)),
        ("messages: garbage body", async (db, k) =>
        {
            await db.SortedSetRemoveRangeByScoreAsync(k.Messages, 3, 3);
            await db.SortedSetAddAsync(k.Messages, "3\nm-3\n{bad", 3);
        }),
        ("ids: deleted", (db, k) => db.KeyDeleteAsync(k.Ids)),
        ("recent index: a string", async (db, k) => { await db.KeyDeleteAsync(k.Recent); await db.StringSetAsync(k.Recent, "garbage"); }),
        ("count: a string", async (db, _) => { await db.KeyDeleteAsync(store.SessionCount); await db.StringSetAsync(store.SessionCount, "garbage"); }),
        ("count: n garbage", (db, _) => db.HashSetAsync(store.SessionCount, "n", "abc")),
        ("count: n far too high", (db, _) => db.HashSetAsync(store.SessionCount, "n", 1_000_000)),
        ("count: n negative", (db, _) => db.HashSetAsync(store.SessionCount, "n", -50)),
        ("count: deleted", (db, _) => db.KeyDeleteAsync(store.SessionCount)),
        ("creating: a string", async (db, _) => { await db.KeyDeleteAsync(store.Creating); await db.StringSetAsync(store.Creating, "garbage"); }),
        ("deleting: a hash", async (db, _) => { await db.KeyDeleteAsync(store.Deleting); await db.HashSetAsync(store.Deleting, "x", "y"); }),
        ("creating: 2,000 live leases", (db, _) => db.SortedSetAddAsync(
            store.Creating, Enumerable.Range(0, 2000).Select(i => new SortedSetEntry($"stuck-{i}", (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds)).ToArray())),
    ];
}

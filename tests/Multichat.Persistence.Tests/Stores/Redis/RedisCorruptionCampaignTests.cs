using FluentAssertions;
using Multichat.Persistence.Stores.Redis;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A seeded corruption campaign over the keys one session owns (its record, messages and id map): wrong types,
/// wrong or missing fields, deleted keys, garbage members. Each damage hits a fresh victim whose bucket also holds a
/// bystander; every operation on the victim must answer (no hang) with success or
/// <see cref="StoreCorruptedException"/> (never another exception type), and the bystander, the listing and the
/// statistics keep working. What <see cref="RedisStoreTests"/> covers (one damaged member, one damaged record in a
/// listing, a key of another type on read) is widened here to every key and every operation.
/// </summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisCorruptionCampaignTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(15);

    // Damages after which reading the session must report it, and the one (a deleted record) after which the session is simply gone.
    private static readonly string[] MustReport = ["meta: a string", "messages: a string", "meta: l garbage", "meta: v garbage", "meta: c garbage", "meta: m not JSON", "meta: p missing", "meta: n garbage", "messages: garbage member", "messages: garbage body"];

    private readonly string _prefix = "c" + Guid.NewGuid().ToString("N")[..12] + ":";
    private readonly List<SessionPersistence> _opened = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        await redis.DeleteKeysAsync(_prefix);
    }

    [Fact]
    public async Task EveryOperation_DamagedSessionKeys_AnswersCorruptedForThatSessionOnlyAndNeverHangs()
    {
        var store = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Redis, ConnectionString = redis.ConnectionString, RedisKeyPrefix = _prefix });
        _opened.Add(store);
        var keys = new RedisKeys(_prefix);
        var db = redis.Admin.GetDatabase();
        var damages = Damages();
        var order = Enumerable.Range(0, damages.Count).ToArray();
        new Random(2026).Shuffle(order);
        var table = new List<string>();
        var violations = new List<string>();
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);

        for (var n = 0; n < order.Length; n++)
        {
            var (name, damage) = damages[order[n]];
            var victim = $"victim-{n}";
            var bystander = BystanderOf(victim, n);
            foreach (var id in new[] { victim, bystander })
            {
                await store.CreateSessionAsync(id, ["a"], cancellationToken: Ct);
                await store.AddMessagesAsync(id, Enumerable.Range(1, 5).Select(i => Message(id, $"m-{i}")).ToArray(), Ct);
            }

            await damage(db, keys.For(victim));

            var results = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["get"] = await ProbeAsync(() => store.GetSessionAsync(victim, Ct)),
                ["read"] = await ProbeAsync(() => store.GetMessagesAsync(victim, 50, Ct)),
                ["append"] = await ProbeAsync(() => store.AddMessageAsync(Message(victim, "new"), Ct)),
                ["retry"] = await ProbeAsync(() => store.AddMessageAsync(Message(victim, "m-2"), Ct)),
                ["retry duplicates"] = await ProbeAsync(async () =>
                {
                    var page = await store.GetMessagesAsync(victim, 50, Ct);
                    return page.Count(m => m.Id == "m-2") > 1 ? throw new DuplicateWaitObjectException("m-2") : page;
                }),
                ["trim"] = await ProbeAsync(() => store.TrimMessagesAsync(victim, 3, Ct)),
                ["delete"] = await ProbeAsync(() => store.DeleteSessionAsync(victim, Ct)),
            };
            // A retry stored twice is recorded (the id map is the only record of ids; see the report), not a violation.
            var allowed = name == "meta: deleted"
                ? new[] { "ok", nameof(StoreCorruptedException), nameof(SessionNotFoundException) }
                : ["ok", nameof(StoreCorruptedException), nameof(DuplicateWaitObjectException)];
            foreach (var (probe, result) in results)
            {
                outcomes[result] = outcomes.GetValueOrDefault(result) + 1;
                if (!allowed.Contains(result))
                {
                    violations.Add($"{name}: {probe} → {result}");
                }
            }

            if (MustReport.Contains(name) && results["get"] != nameof(StoreCorruptedException) && results["read"] != nameof(StoreCorruptedException))
            {
                violations.Add($"{name}: neither reading the session nor its messages reported the damage (get {results["get"]}, read {results["read"]})");
            }

            // The rest of the store: the bystander in the same bucket, the listing and the statistics.
            var others = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["bystander get"] = await ProbeAsync(() => store.GetSessionAsync(bystander, Ct)),
                ["bystander read"] = await ProbeAsync(() => store.GetMessagesAsync(bystander, 50, Ct)),
                ["bystander append"] = await ProbeAsync(() => store.AddMessageAsync(Message(bystander, "new"), Ct)),
                ["list"] = await ProbeAsync(async () =>
                {
                    var page = await store.ListSessionsAsync(new SessionQuery { Limit = 1000 }, Ct);
                    return page.Sessions.Any(s => s.SessionId == bystander) ? page : throw new InvalidOperationException("the bystander is not listed");
                }),
                ["stats"] = await ProbeAsync(() => store.GetStatisticsAsync(Ct)),
            };
            foreach (var (probe, result) in others.Where(o => o.Value != "ok"))
            {
                violations.Add($"{name}: {probe} → {result}");
            }

            var health = await store.CheckHealthAsync(Ct);
            table.Add($"{name}: {string.Join(", ", results.Select(r => $"{r.Key} {r.Value}"))}; others {(others.Values.All(v => v == "ok") ? "ok" : "FAILED")}; health {health.Status}");
            await db.KeyDeleteAsync([keys.For(victim).Meta, keys.For(victim).Messages, keys.For(victim).Ids]);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{order.Length} damages, {order.Length * 7} victim probes: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}\n{string.Join('\n', table)}");
        violations.Should().BeEmpty(string.Join('\n', table));
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = "content of " + id };

    private static string BystanderOf(string victim, int n)
    {
        for (var i = 0; ; i++)
        {
            var candidate = $"bystander-{n}-{i}";
            if (RedisKeys.BucketOf(candidate) == RedisKeys.BucketOf(victim))
            {
                return candidate;
            }
        }
    }

    private static async Task<string> ProbeAsync<T>(Func<Task<T>> call)
    {
        var task = call();
        try
        {
            await task.WaitAsync(Hang, Ct);
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

    private static List<(string Name, Func<IDatabase, SessionKeys, Task> Damage)> Damages() =>
    [
        ("meta: a string", async (db, k) => { await db.KeyDeleteAsync(k.Meta); await db.StringSetAsync(k.Meta, "garbage"); }),
        ("messages: a string", async (db, k) => { await db.KeyDeleteAsync(k.Messages); await db.StringSetAsync(k.Messages, "garbage"); }),
        ("ids: a list", async (db, k) => { await db.KeyDeleteAsync(k.Ids); await db.ListRightPushAsync(k.Ids, "garbage"); }),
        ("meta: l garbage", (db, k) => db.HashSetAsync(k.Meta, "l", "garbage")),
        ("meta: v garbage", (db, k) => db.HashSetAsync(k.Meta, "v", "x")),
        ("meta: c garbage", (db, k) => db.HashSetAsync(k.Meta, "c", "not-ticks")),
        ("meta: m not JSON", (db, k) => db.HashSetAsync(k.Meta, "m", "{not json")),
        ("meta: p missing", (db, k) => db.HashDeleteAsync(k.Meta, "p")),
        ("meta: n garbage", (db, k) => db.HashSetAsync(k.Meta, "n", "abc")),
        ("messages: garbage member", (db, k) => db.SortedSetAddAsync(k.Messages, "garbage", 6)),
        ("messages: garbage body", async (db, k) =>
        {
            await db.SortedSetRemoveRangeByScoreAsync(k.Messages, 3, 3);
            await db.SortedSetAddAsync(k.Messages, "3\nm-3\n{bad", 3);
        }),
        ("meta: deleted", (db, k) => db.KeyDeleteAsync(k.Meta)),
        ("messages: deleted", (db, k) => db.KeyDeleteAsync(k.Messages)),
        ("ids: deleted", (db, k) => db.KeyDeleteAsync(k.Ids)),
    ];
}

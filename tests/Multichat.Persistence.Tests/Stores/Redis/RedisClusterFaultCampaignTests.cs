using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Multichat.Persistence.Stores.Redis;
using Multichat.Persistence.Tests.Infrastructure;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The cluster half of <see cref="RedisFaultCampaignTests"/>: on a private durable 3-primary cluster
/// (<see cref="RedisDurableCluster"/>), connections are dropped on every node (CLIENT KILL) and, in odd rounds, a node
/// is killed (SIGKILL) and restarted, while a TestWorker process appends to one session (restarted whenever a fault
/// ends it) and the test batches and trims another, and creates under MaxSessions and deletes sessions. After each
/// round: every acknowledged message present with its sequence, nothing unacknowledged but the in-flight ids,
/// sequences gapless and never reused, a retry of every id stores nothing twice, never more sessions than the limit,
/// the session count within its leases; at the end, once the leases expire, the count exact.
/// <c>MULTICHAT_FAULT_ROUNDS</c> sets the rounds (default 2). In the cluster collection (its fixture unused) so its
/// worker processes do not compete with the other cluster tests' processes for the machine.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterFaultCampaignTests : IAsyncLifetime
{
    private const int OperationsPerRound = 40;
    private const int AppendsPerRound = 60;
    private const int InjectionsPerRound = 8;
    private const int MaxSessions = 14;
    private const string Prefix = "cf:";

    private readonly Dictionary<string, long> _injected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);
    private readonly HashSet<string> _maybe = new(StringComparer.Ordinal);
    private RedisDurableCluster? _cluster;
    private int _injections;
    private SessionPersistence? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static int Rounds =>
        int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var rounds) && rounds > 0 ? rounds : 2;

    private RedisDurableCluster Cluster => _cluster!;

    private string ConnectionString => $"{Cluster.ConnectionString},connectTimeout=5000,asyncTimeout=1000,syncTimeout=1000";

    private SessionPersistence Store => _store!;

    public async ValueTask InitializeAsync()
    {
        RedisFixture.RequireAvailable(RedisServerProcess.Executable is null || RedisServerProcess.CliExecutable is null
            ? "redis-server and redis-cli are not installed; the campaign needs a private cluster whose nodes it can kill."
            : null);
        _cluster = await RedisDurableCluster.StartAsync();
        _store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = ConnectionString,
            RedisKeyPrefix = Prefix,
            MaxSessions = MaxSessions,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Writes_ConnectionsDroppedAndNodesKilledOnACluster_KeepEveryAcknowledgedMessageAndTheCountRight()
    {
        var watch = Stopwatch.StartNew();
        for (var round = 0; round < Rounds; round++)
        {
            await RunRoundAsync(round);
        }

        await using (var admin = await AdminAsync())
        {
            await RedisStoreChecks.ExpireLeasesAndCheckExactCountAsync(ConnectionString, Prefix, admin.GetDatabase(), new RedisKeys(Prefix));
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"rounds {Rounds} in {watch.Elapsed.TotalSeconds:F1} s; faults injected: {Describe(_injected)}; operation outcomes: {Describe(_outcomes)}");
        _injected.Values.Sum().Should().BePositive();
    }

    private static string Describe(Dictionary<string, long> counts) => string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = "content of " + id };

    private async Task<ConnectionMultiplexer> AdminAsync() => await ConnectionMultiplexer.ConnectAsync(Cluster.ConnectionString + ",allowAdmin=true,connectTimeout=5000");

    private async Task RunRoundAsync(int round)
    {
        var random = new Random(4100 + round);
        var worked = $"w-{round}";
        var batched = $"b-{round}";
        await CreateAsync(worked);
        await CreateAsync(batched);

        // The model of the batched session: what the store acknowledged, exactly (every call is retried until it is).
        var acknowledged = new Dictionary<string, long>(StringComparer.Ordinal);
        long trimmedBelow = 0, nextId = 0;
        var lastBatch = Array.Empty<ChatMessage>();

        using var stop = new CancellationTokenSource();
        var workers = new List<TestWorkerProcess>();
        var working = RunWorkersAsync(worked, round, workers, stop.Token);

        // The faults start once the worker writes (its process start is the slow part), and last until it has
        // written a good number of appends through them.
        await WaitUntilAsync(() => AcknowledgedBy(workers) > 0);
        Volatile.Write(ref _injections, 0);
        var injector = InjectAsync(new Random(7100 + round), killNodes: round % 2 == 1, stop.Token);
        for (var op = 0; op < OperationsPerRound; op++)
        {
            switch (random.Next(10))
            {
                case < 4:
                {
                    var batch = Enumerable.Range(0, random.Next(1, 10)).Select(_ => Message(batched, $"m-{nextId++}")).ToArray();
                    foreach (var message in await RetryAsync("batch", () => Store.AddMessagesAsync(batched, batch, Ct)))
                    {
                        acknowledged.Add(message.Id, message.Sequence);
                    }

                    lastBatch = batch;
                    break;
                }

                case < 5:
                {
                    var keep = random.Next(5, 30);
                    await RetryAsync("trim", () => Store.TrimMessagesAsync(batched, keep, Ct));
                    var kept = acknowledged.Values.Where(s => s > trimmedBelow).OrderDescending().Take(keep).DefaultIfEmpty(trimmedBelow + 1).Min();
                    trimmedBelow = Math.Max(trimmedBelow, kept - 1);
                    lastBatch = lastBatch.Where(m => acknowledged[m.Id] > trimmedBelow).ToArray();
                    break;
                }

                case < 8:
                    await CreateAsync($"c-{round}-{op}");
                    break;
                default:
                {
                    var victim = _created.Concat(_maybe).Where(s => s.StartsWith("c-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ElementAtOrDefault(random.Next(4));
                    if (victim is not null)
                    {
                        await RetryAsync("delete", () => Store.DeleteSessionAsync(victim, Ct));
                        _created.Remove(victim);
                        _maybe.Remove(victim);
                    }

                    break;
                }
            }
        }

        await WaitUntilAsync(() => AcknowledgedBy(workers) >= AppendsPerRound && Volatile.Read(ref _injections) >= InjectionsPerRound);
        await stop.CancelAsync();
        await injector;
        await working;
        foreach (var worker in workers)
        {
            worker.KillHard();
        }

        foreach (var node in Cluster.Nodes.Where(n => !n.IsRunning))
        {
            await node.RestartAsync();
        }

        await Cluster.WaitUntilOkAsync();

        // The cluster says ok before this process's multiplexer has its connections to a restarted node back: a
        // listing (it reads every bucket, so every node) through the store, retried while unavailable, so the checks
        // below do not race that reconnect.
        await RetryAsync("settle", () => Store.ListSessionsAsync(new SessionQuery(), Ct));
        await VerifyWorkedAsync(worked, workers);
        await VerifyBatchedAsync(batched, acknowledged, trimmedBelow, lastBatch);
        await VerifySessionsAsync();
        foreach (var worker in workers)
        {
            worker.Dispose();
        }

        // The next round starts below the limit again (its worker's session must be created).
        foreach (var session in _created.Concat(_maybe).ToList())
        {
            await RetryAsync("delete", () => Store.DeleteSessionAsync(session, Ct));
        }

        _created.Clear();
        _maybe.Clear();
        await using var admin = await AdminAsync();
        await RedisStoreChecks.CheckCountBoundsAsync(admin.GetDatabase(), new RedisKeys(Prefix), "after the round's sessions were deleted");
    }

    private static int AcknowledgedBy(List<TestWorkerProcess> workers)
    {
        lock (workers)
        {
            return workers.Sum(w => w.Acknowledged.Count);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "the worker should have written long before");
            await Task.Delay(20, Ct);
        }
    }

    private async Task CreateAsync(string sessionId)
    {
        try
        {
            await RetryAsync("create", () => Store.CreateSessionAsync(sessionId, ["a"], cancellationToken: Ct));
            _created.Add(sessionId);
        }
        catch (SessionAlreadyExistsException)
        {
            // A retry of a create that was applied before its answer was lost.
            Count(_outcomes, "create already exists (retry of an applied call)");
            _created.Add(sessionId);
        }
        catch (QuotaExceededException)
        {
            // Full; a retry of a create that was applied is refused for the limit too, so it may exist.
            Count(_outcomes, "create quota");
            _maybe.Add(sessionId);
        }
    }

    private async Task RunWorkersAsync(string session, int round, List<TestWorkerProcess> workers, CancellationToken stop)
    {
        for (var generation = 0; !stop.IsCancellationRequested; generation++)
        {
            // Each worker ends at the first fault it sees (it does not retry); the next takes over with new ids.
            var worker = TestWorkerProcess.Start("Redis", ConnectionString, session, $"g{round}.{generation}-", "forever", "Normal", Prefix);
            lock (workers)
            {
                workers.Add(worker);
            }

            try
            {
                await worker.WaitForExitAsync(TimeSpan.FromMinutes(10)).WaitAsync(stop);
                Count(_outcomes, "worker ended by a fault");
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task VerifyWorkedAsync(string session, List<TestWorkerProcess> workers)
    {
        var acknowledged = workers.SelectMany(w => w.Acknowledged).ToList();
        var inFlight = workers.Select(w => w.Acknowledged.Count).Zip(Enumerable.Range(0, workers.Count), (count, g) => $"{PrefixOf(session, g)}{count}").ToList();
        await using var admin = await AdminAsync();
        var all = (await RedisStoreChecks.CheckSessionAsync(Store, admin.GetDatabase(), new RedisKeys(Prefix), session, "the worker's session"))!;
        var stored = all.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
        acknowledged.Where(a => !stored.TryGetValue(a.Id, out var sequence) || sequence != a.Sequence).Should()
            .BeEmpty("every append a worker acknowledged is stored with its sequence (appendfsync always on every node)");
        stored.Keys.Should().BeSubsetOf(acknowledged.Select(a => a.Id).Concat(inFlight), "only acknowledged and in-flight appends are stored");
        all.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), "nothing trims this session: 1…n");
        Count(_outcomes, $"worker acks {acknowledged.Count}");

        // Every id again, the in-flight ones included: each stored once.
        var again = acknowledged.Select(a => a.Id).Concat(inFlight).Select(id => Message(session, id)).ToArray();
        var answered = new List<ChatMessage>();
        foreach (var chunk in again.Chunk(200))
        {
            answered.AddRange(await RetryAsync("verify", () => Store.AddMessagesAsync(session, chunk, Ct)));
        }

        answered.Where(m => stored.ContainsKey(m.Id)).Should().OnlyContain(m => m.Sequence == stored[m.Id], "a retried id answers its stored original");
        var after = await RedisStoreChecks.ReadAllAsync(Store, session);
        after.Should().HaveCount(stored.Count + inFlight.Count(id => !stored.ContainsKey(id)), "only in-flight ids not stored before are stored now, once");
        var next = await RetryAsync("verify", () => Store.AddMessageAsync(Message(session, "after"), Ct));
        next.Sequence.Should().Be(after.Count + 1, "a sequence is never reused");
    }

    private static string PrefixOf(string session, int generation) => $"g{session[2..]}.{generation}-";

    private async Task VerifyBatchedAsync(string session, Dictionary<string, long> acknowledged, long trimmedBelow, ChatMessage[] lastBatch)
    {
        await using var admin = await AdminAsync();
        var all = (await RedisStoreChecks.CheckSessionAsync(Store, admin.GetDatabase(), new RedisKeys(Prefix), session, "the batched session"))!;
        var stored = all.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
        acknowledged.Where(a => a.Value > trimmedBelow && (!stored.TryGetValue(a.Key, out var sequence) || sequence != a.Value))
            .Should().BeEmpty("every acknowledged message not trimmed is stored with its sequence");
        stored.Keys.Should().BeSubsetOf(acknowledged.Keys, "every batch was retried until acknowledged: nothing else appears");
        var lastSequence = acknowledged.Values.DefaultIfEmpty(0).Max();
        (await Store.GetSessionAsync(session, Ct))!.LastSequence.Should().Be(lastSequence, "the last issued sequence survives every fault");
        if (lastBatch.Length > 0)
        {
            var again = await RetryAsync("verify", () => Store.AddMessagesAsync(session, lastBatch, Ct));
            again.Select(m => m.Sequence).Should().Equal(lastBatch.Select(m => acknowledged[m.Id]), "the retried batch answers its originals");
            (await RedisStoreChecks.ReadAllAsync(Store, session)).Should().HaveCount(all.Count);
        }

        (await RetryAsync("verify", () => Store.AddMessageAsync(Message(session, "after"), Ct))).Sequence.Should().Be(lastSequence + 1, "a sequence is never reused");
    }

    private async Task VerifySessionsAsync()
    {
        await using var admin = await AdminAsync();
        var db = admin.GetDatabase();
        var keys = new RedisKeys(Prefix);
        var (_, _, _, existing) = await RedisStoreChecks.CountsAsync(db, keys);
        existing.Should().BeLessThanOrEqualTo(MaxSessions, "never more sessions than MaxSessions");
        foreach (var session in _created)
        {
            (await Store.GetSessionAsync(session, Ct)).Should().NotBeNull("an acknowledged create that was not deleted is kept ({0})", session);
        }

        var ids = new List<string>();
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            ids.AddRange((await db.SortedSetRangeByRankAsync(keys.Recent(bucket))).Select(v => (string)v!));
        }

        ids.Should().BeSubsetOf(_created.Concat(_maybe), "no session exists that was neither acknowledged nor in doubt");
        await RedisStoreChecks.CheckCountBoundsAsync(db, keys, "after the round");
    }

    private async Task InjectAsync(Random random, bool killNodes, CancellationToken stop)
    {
        var kills = 0;
        try
        {
            for (var injection = 0; !stop.IsCancellationRequested; injection++)
            {
                await Task.Delay(random.Next(100, 400), stop);
                if (killNodes && kills < 2 && injection % 5 == 1)
                {
                    var node = Cluster.Nodes[random.Next(Cluster.Nodes.Count)];
                    node.Kill();
                    Count(_injected, "kill -9 + restart of a node");
                    kills++;
                    await Task.Delay(random.Next(0, 200), CancellationToken.None);
                    await node.RestartAsync();
                    Interlocked.Increment(ref _injections);
                    continue;
                }

                // SKIPME yes (the default) keeps redis-cli's own connection; every other client of the node is dropped.
                var target = Cluster.Nodes[random.Next(Cluster.Nodes.Count)];
                await target.CliAsync("CLIENT", "KILL", "TYPE", "normal");
                Count(_injected, "CLIENT KILL on a node");
                Interlocked.Increment(ref _injections);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The round is over.
        }
    }

    private async Task<T> RetryAsync<T>(string operation, Func<Task<T>> call)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var result = await call();
                Count(_outcomes, operation + " ok");
                return result;
            }
            catch (StoreUnavailableException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                Count(_outcomes, operation + " unavailable (retried)");
                await Task.Delay(20, Ct);
            }
        }
    }

    private void Count(Dictionary<string, long> counts, string key)
    {
        lock (counts)
        {
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
    }
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Multichat.Persistence.Benchmarks.Redis;

namespace Multichat.Persistence.Benchmarks.Caching;

/// <summary>
/// What the read cache buys and costs (issue 13's goal: a hit at least 10× faster than latest-50 without the cache at
/// any history length, at most 10 % more per append): the same store, session and calls with the cache off (each
/// category's baseline), on, and on with <see cref="CacheOptions.MaxStaleness"/> of one second, in one run. Latest-50
/// reads a standing session of <see cref="History"/> messages; the cached instances have read it once, so every
/// measured read is a hit (with the defaults it costs the store's head check). Appends go to a second session that the
/// cached instance read once in setup: its own appends keep extending that window, so every measured append pays the
/// cache's work. The agent loop is "latest 50, append one" on a third session.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CacheBenchmarks
{
    private const int ReadsPerInvoke = 200;
    private const int AppendsPerInvoke = 200;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "multichat-bench-cache", Guid.NewGuid().ToString("N")[..8]);
    private BenchmarkRedisServer? _redis;
    private SessionPersistence _off = null!;
    private SessionPersistence _on = null!;
    private SessionPersistence _stale = null!;
    private int _next;

    [Params(StorageType.Sqlite, StorageType.Redis)]
    public StorageType Store { get; set; }

    [Params(1_000, 100_000)]
    public int History { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        if (Store == StorageType.Redis)
        {
            _redis = BenchmarkRedisServer.Start();
        }

        _off = Open(cache: false);
        _on = Open(cache: true);
        _stale = Open(cache: true, maxStaleness: TimeSpan.FromSeconds(1));
        var at = DateTimeOffset.UtcNow;
        await _off.Store.ImportSessionAsync(
            new ChatSession { SessionId = "read", Participants = ["Agent-1", "Agent-2"], CreatedAt = at, UpdatedAt = at, Version = 1, LastSequence = History },
            replaceExisting: true);
        for (var start = 0; start < History; start += 10_000)
        {
            var count = Math.Min(10_000, History - start);
            await _off.Store.ImportMessagesAsync("read", [.. Enumerable.Range(start, count).Select(i => Message($"r-{i}", "read") with { Sequence = i + 1, Timestamp = at })]);
        }

        await _off.CreateSessionAsync("append", ["Agent-1", "Agent-2"]);
        await _off.CreateSessionAsync("loop", ["Agent-1", "Agent-2"]);
        await _on.GetMessagesAsync("read", 50);
        await _stale.GetMessagesAsync("read", 50);
        await _on.GetMessagesAsync("append", 50);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _off.DisposeAsync();
        await _on.DisposeAsync();
        await _stale.DisposeAsync();
        _redis?.Dispose();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ReadsPerInvoke, Description = "latest 50, cache off")]
    [BenchmarkCategory("latest-50")]
    public Task LatestOff() => ReadAsync(_off);

    [Benchmark(OperationsPerInvoke = ReadsPerInvoke, Description = "latest 50, cache on (hit)")]
    [BenchmarkCategory("latest-50")]
    public Task LatestOn() => ReadAsync(_on);

    [Benchmark(OperationsPerInvoke = ReadsPerInvoke, Description = "latest 50, cache on, MaxStaleness 1 s (hit)")]
    [BenchmarkCategory("latest-50")]
    public Task LatestStale() => ReadAsync(_stale);

    [Benchmark(Baseline = true, OperationsPerInvoke = AppendsPerInvoke, Description = "append, cache off")]
    [BenchmarkCategory("append")]
    public Task AppendOff() => AppendAsync(_off);

    [Benchmark(OperationsPerInvoke = AppendsPerInvoke, Description = "append, cache on (window extended)")]
    [BenchmarkCategory("append")]
    public Task AppendOn() => AppendAsync(_on);

    [Benchmark(Baseline = true, OperationsPerInvoke = AppendsPerInvoke, Description = "latest 50 + append, cache off")]
    [BenchmarkCategory("agent-loop")]
    public Task LoopOff() => LoopAsync(_off);

    [Benchmark(OperationsPerInvoke = AppendsPerInvoke, Description = "latest 50 + append, cache on")]
    [BenchmarkCategory("agent-loop")]
    public Task LoopOn() => LoopAsync(_on);

    private static async Task ReadAsync(SessionPersistence store)
    {
        for (var i = 0; i < ReadsPerInvoke; i++)
        {
            await store.GetMessagesAsync("read", 50);
        }
    }

    private async Task AppendAsync(SessionPersistence store)
    {
        for (var i = 0; i < AppendsPerInvoke; i++)
        {
            await store.AddMessageAsync(Message($"a-{++_next}", "append"));
        }
    }

    private async Task LoopAsync(SessionPersistence store)
    {
        for (var i = 0; i < AppendsPerInvoke; i++)
        {
            await store.GetMessagesAsync("loop", 50);
            await store.AddMessageAsync(Message($"l-{++_next}", "loop"));
        }
    }

    private static ChatMessage Message(string id, string sessionId) =>
        new() { Id = id, SessionId = sessionId, Sender = "Agent-1", Recipient = "Agent-2", Content = ProtectionTextContent };

    private const string ProtectionTextContent =
        "Agent-1 to Agent-2: here is the next step of the plan, with the file list and the test command we agreed on; reply when done. Thanks!";

    private SessionPersistence Open(bool cache, TimeSpan maxStaleness = default)
    {
        var options = new SessionPersistenceOptions { StorageType = Store, RedisKeyPrefix = "bench-cache:" };
        if (Store == StorageType.Redis)
        {
            options.ConnectionString = _redis!.ConnectionString;
        }
        else
        {
            options.StoragePath = _root;
        }

        options.Cache.Enabled = cache;
        options.Cache.MaxStaleness = maxStaleness;
        return SessionPersistence.Create(options);
    }
}

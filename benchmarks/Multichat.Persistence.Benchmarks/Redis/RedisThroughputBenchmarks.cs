using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using StackExchange.Redis;

namespace Multichat.Persistence.Benchmarks.Redis;

/// <summary>
/// The Redis store against raw StackExchange.Redis doing a single-round-trip write of the same message body and a
/// read of the latest 50, with the same number of concurrent callers on one multiplexer each. Two write baselines:
/// a bare script doing the least an idempotent gapless append must (id check, next sequence, write; the ratio
/// baseline), and a plain XADD (no idempotency, no sequence) as the floor. An invocation runs
/// <see cref="Callers"/> callers of <see cref="PerCaller"/> operations each.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RedisThroughputBenchmarks
{
    private const int Callers = 8;
    private const int PerCaller = 250;
    private const int Operations = Callers * PerCaller;

    private BenchmarkRedisServer _server = null!;
    private SessionPersistence _persistence = null!;
    private ConnectionMultiplexer _raw = null!;
    private IDatabase _db = null!;
    private long _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = BenchmarkRedisServer.Start();
        _persistence = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = _server.ConnectionString,
            RedisKeyPrefix = "bench:",
        });
        _raw = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString);
        _db = _raw.GetDatabase();
        await _persistence.CreateSessionAsync("append", ["Agent-1", "Agent-2"]);
        await _persistence.CreateSessionAsync("read", ["Agent-1", "Agent-2"]);
        for (var i = 0; i < 10; i++)
        {
            await _persistence.AddMessagesAsync("read", Enumerable.Range(i * 100, 100).Select(n => NewMessage("read", n)));
            for (var n = 0; n < 100; n++)
            {
                await _db.StreamAddAsync("raw:read", "m", Body);
            }
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _persistence.DisposeAsync();
        await _raw.DisposeAsync();
        _server.Dispose();
    }

    [BenchmarkCategory("append")]
    [Benchmark(OperationsPerInvoke = Operations, Description = "raw: XADD (8 callers)")]
    public Task RawAppend() => RunCallersAsync(async () =>
    {
        var id = Interlocked.Increment(ref _next);
        await _db.StreamAddAsync("raw:append", "m", Body);
        GC.KeepAlive(id);
    });

    [BenchmarkCategory("append")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations, Description = "raw: bare append script (8 callers)")]
    public Task RawScriptAppend() => RunCallersAsync(() =>
    {
        var id = Interlocked.Increment(ref _next);
        return _db.ScriptEvaluateAsync(BareAppendScript, RawKeys, [$"m-{id}", Body]);
    });

    [BenchmarkCategory("append")]
    [Benchmark(OperationsPerInvoke = Operations, Description = "store: AddMessageAsync (8 callers)")]
    public Task Append() => RunCallersAsync(() => _persistence.AddMessageAsync(NewMessage("append", Interlocked.Increment(ref _next))));

    [BenchmarkCategory("append")]
    [Benchmark(OperationsPerInvoke = Operations, Description = "ISessionStore.AppendMessagesAsync, no facade (8 callers)")]
    public Task StoreAppend() => RunCallersAsync(() => _persistence.Store.AppendMessagesAsync("append", [NewMessage("append", Interlocked.Increment(ref _next))], MessageLimit.None));

    [BenchmarkCategory("latest50")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations, Description = "raw: XREVRANGE 50 (8 callers)")]
    public Task RawLatest50() => RunCallersAsync(() => _db.StreamRangeAsync("raw:read", "-", "+", 50, Order.Descending));

    [BenchmarkCategory("latest50")]
    [Benchmark(OperationsPerInvoke = Operations, Description = "store: GetMessagesAsync(latest 50) (8 callers)")]
    public Task Latest50() => RunCallersAsync(() => _persistence.GetMessagesAsync("read", 50));

    // The least a script must do for an idempotent, gapless append: id check, next sequence, write.
    private const string BareAppendScript = """
        local seq = redis.call('HGET', KEYS[2], ARGV[1])
        if seq then return seq end
        seq = redis.call('HINCRBY', KEYS[1], 'l', 1)
        redis.call('HSET', KEYS[2], ARGV[1], seq)
        redis.call('ZADD', KEYS[3], seq, ARGV[2] .. seq)
        return seq
        """;

    private static readonly RedisKey[] RawKeys = ["{raw}:meta", "{raw}:ids", "{raw}:msgs"];

    private static string Body => "{\"s\":\"Agent-1\",\"r\":\"Agent-2\",\"c\":\"A typical short agent message of some sixty characters.\",\"t\":639000000000000000}";

    private static ChatMessage NewMessage(string sessionId, long i) =>
        new() { Id = $"m-{i}", SessionId = sessionId, Sender = "Agent-1", Recipient = "Agent-2", Content = "A typical short agent message of some sixty characters." };

    private static Task RunCallersAsync(Func<Task> operation) =>
        Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < PerCaller; i++)
            {
                await operation();
            }
        })));
}

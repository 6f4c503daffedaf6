using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Redis;

/// <summary>
/// The cost of MaxSessions on create: on a store of 10,000 sessions, a create without a limit (the baseline) against a
/// create under a limit that is not reached (on a single node: the same script, counting the 16 bucket indexes too).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RedisSessionLimitBenchmarks
{
    private const int Stored = 10_000;

    private BenchmarkRedisServer _server = null!;
    private SessionPersistence _unlimited = null!;
    private SessionPersistence _limited = null!;
    private long _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = BenchmarkRedisServer.Start();
        _unlimited = SessionPersistence.Create(Options(null));
        _limited = SessionPersistence.Create(Options(10_000_000));
        for (var start = 0; start < Stored; start += 500)
        {
            await Task.WhenAll(Enumerable.Range(start, 500).Select(i => _unlimited.CreateSessionAsync($"seed-{i}", ["Agent-1", "Agent-2"])));
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _unlimited.DisposeAsync();
        await _limited.DisposeAsync();
        _server.Dispose();
    }

    [Benchmark(Baseline = true, Description = "create, no MaxSessions (10k stored)")]
    public Task<ChatSession> CreateUnlimited() => _unlimited.CreateSessionAsync($"u-{_next++}", ["Agent-1", "Agent-2"]);

    [Benchmark(Description = "create under MaxSessions (10k stored)")]
    public Task<ChatSession> CreateLimited() => _limited.CreateSessionAsync($"l-{_next++}", ["Agent-1", "Agent-2"]);

    private SessionPersistenceOptions Options(int? maxSessions) => new()
    {
        StorageType = StorageType.Redis,
        ConnectionString = _server.ConnectionString,
        RedisKeyPrefix = "bench-limit:",
        MaxSessions = maxSessions,
    };
}

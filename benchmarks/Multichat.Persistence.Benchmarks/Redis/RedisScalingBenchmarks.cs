using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Redis;

/// <summary>
/// Append and latest-50 cost against history length (DESIGN §4.6): a session is filled to <see cref="History"/>
/// messages (imported in batches, unmeasured), then one caller appends or reads the latest 50. Appends grow the
/// history by at most a few percent during a short run, which does not change the order of magnitude measured.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RedisScalingBenchmarks
{
    private BenchmarkRedisServer _server = null!;
    private SessionPersistence _persistence = null!;
    private long _next;

    [Params(1_000, 1_000_000)]
    public int History { get; set; }

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
        var at = DateTimeOffset.UtcNow;
        await _persistence.Store.ImportSessionAsync(
            new ChatSession { SessionId = "scale", Participants = ["Agent-1", "Agent-2"], CreatedAt = at, UpdatedAt = at, Version = 1, LastSequence = History },
            replaceExisting: true);
        for (var start = 0; start < History; start += 10_000)
        {
            var count = Math.Min(10_000, History - start);
            await _persistence.Store.ImportMessagesAsync(
                "scale", [.. Enumerable.Range(start, count).Select(i => NewMessage(i) with { Sequence = i + 1, Timestamp = at })]);
        }

        _next = History;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _persistence.DisposeAsync();
        _server.Dispose();
    }

    [Benchmark(Description = "append one at N")]
    public Task<ChatMessage> Append() => _persistence.AddMessageAsync(NewMessage(_next++));

    [Benchmark(Description = "latest 50 at N")]
    public Task<IReadOnlyList<ChatMessage>> Latest50() => _persistence.GetMessagesAsync("scale", 50);

    private static ChatMessage NewMessage(long i) =>
        new() { Id = $"m-{i}", SessionId = "scale", Sender = "Agent-1", Content = "A typical short agent message of some sixty characters." };
}

using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Memory;

/// <summary>
/// Append and latest-50 cost against history length (DESIGN §4.6): the session holds exactly
/// <see cref="History"/> messages throughout, because MaxMessagesPerSession trims one for each one appended.
/// </summary>
[MemoryDiagnoser]
public class MemoryScalingBenchmarks
{
    private SessionPersistence _persistence = null!;
    private long _next;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int History { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory, MaxMessagesPerSession = History });
        await _persistence.CreateSessionAsync("scale", ["Agent-1", "Agent-2"]);
        for (var start = 0; start < History; start += 10_000)
        {
            var count = Math.Min(10_000, History - start);
            await _persistence.AddMessagesAsync("scale", Enumerable.Range(start, count).Select(i => NewMessage(i)));
        }

        _next = History;
    }

    [GlobalCleanup]
    public ValueTask CleanupAsync() => _persistence.DisposeAsync();

    [Benchmark(Description = "append one (history kept at N)")]
    public Task<ChatMessage> Append() => _persistence.AddMessageAsync(NewMessage(_next++));

    [Benchmark(Description = "latest 50")]
    public Task<IReadOnlyList<ChatMessage>> Latest50() => _persistence.GetMessagesAsync("scale", 50);

    private static ChatMessage NewMessage(long i) =>
        new() { Id = $"m-{i}", SessionId = "scale", Sender = "Agent-1", Content = "A typical short agent message of some sixty characters." };
}

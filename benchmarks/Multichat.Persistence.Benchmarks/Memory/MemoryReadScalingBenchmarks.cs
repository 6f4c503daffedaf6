using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Memory;

/// <summary>Latest-50 read cost against history length (DESIGN §4.6); reads change nothing, so the history stays N.</summary>
[MemoryDiagnoser]
public class MemoryReadScalingBenchmarks
{
    private SessionPersistence _persistence = null!;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int History { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await _persistence.CreateSessionAsync("scale", ["Agent-1", "Agent-2"]);
        for (var start = 0; start < History; start += 10_000)
        {
            var count = Math.Min(10_000, History - start);
            await _persistence.AddMessagesAsync("scale", Enumerable.Range(start, count).Select(i =>
                new ChatMessage { Id = $"m-{i}", SessionId = "scale", Sender = "Agent-1", Content = "A typical short agent message of some sixty characters." }));
        }
    }

    [GlobalCleanup]
    public ValueTask CleanupAsync() => _persistence.DisposeAsync();

    [Benchmark(Description = "latest 50 at N")]
    public Task<IReadOnlyList<ChatMessage>> Latest50() => _persistence.GetMessagesAsync("scale", 50);
}

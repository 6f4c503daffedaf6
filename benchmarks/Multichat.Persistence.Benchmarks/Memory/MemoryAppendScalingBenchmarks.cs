using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Memory;

/// <summary>
/// Append cost against history length (DESIGN §4.6). An iteration appends
/// <see cref="AppendsPerIteration"/> messages and the unmeasured
/// iteration cleanup trims the session back to <see cref="History"/>, so every measurement sees the history it names.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(AppendsPerIteration)]
public class MemoryAppendScalingBenchmarks
{
    private const int AppendsPerIteration = 4096;

    private SessionPersistence _persistence = null!;
    private long _next;

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
            await _persistence.AddMessagesAsync("scale", Enumerable.Range(start, count).Select(i => NewMessage(i)));
        }

        _next = History;
    }

    [IterationCleanup]
    public void TrimBack() => _persistence.TrimMessagesAsync("scale", History).GetAwaiter().GetResult();

    [GlobalCleanup]
    public ValueTask CleanupAsync() => _persistence.DisposeAsync();

    [Benchmark(Description = "append one at N")]
    public Task<ChatMessage> Append() => _persistence.AddMessageAsync(NewMessage(_next++));

    private static ChatMessage NewMessage(long i) =>
        new() { Id = $"m-{i}", SessionId = "scale", Sender = "Agent-1", Content = "A typical short agent message of some sixty characters." };
}

using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Memory;

/// <summary>
/// The facade over the Memory store against a raw baseline doing the bare minimum of the same work (a lock, a list,
/// an id dictionary, a copy of the message with its sequence), so the ratio shows what validation, the contract and
/// telemetry cost. Each invocation appends into a fresh session and deletes it, so memory stays flat however many
/// invocations BenchmarkDotNet runs.
/// </summary>
[MemoryDiagnoser]
public class MemoryFacadeBenchmarks
{
    private const int AppendsPerInvoke = 10_000;
    private const int BatchesPerInvoke = 100;

    private SessionPersistence _persistence = null!;
    private ChatMessage[] _messages = null!;
    private ChatMessage[][] _batches = null!;
    private RawMemoryLog _raw = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        _messages = Enumerable.Range(0, AppendsPerInvoke)
            .Select(i => new ChatMessage { Id = $"m-{i}", SessionId = "bench", Sender = "Agent-1", Recipient = "Agent-2", Content = "A typical short agent message of some sixty characters." })
            .ToArray();
        _batches = _messages.Chunk(100).ToArray();
        _raw = new RawMemoryLog();

        // Reading and listing work on a standing store: 1,000 sessions, one with 10,000 messages.
        for (var i = 0; i < 1000; i++)
        {
            await _persistence.CreateSessionAsync($"list-{i:D4}", [$"Agent-{i % 10}", "Observer"]);
        }

        await _persistence.CreateSessionAsync("read", ["Agent-1", "Agent-2"]);
        foreach (var batch in _messages.Chunk(1000))
        {
            await _persistence.AddMessagesAsync("read", batch.Select(m => m with { SessionId = "read" }));
            _raw.Append(batch.Select(m => m with { SessionId = "read" }));
        }
    }

    [GlobalCleanup]
    public ValueTask CleanupAsync() => _persistence.DisposeAsync();

    [Benchmark(Baseline = true, OperationsPerInvoke = AppendsPerInvoke, Description = "raw: append one")]
    public void RawAppendOne()
    {
        var log = new RawMemoryLog();
        foreach (var message in _messages)
        {
            log.Append(message);
        }
    }

    [Benchmark(OperationsPerInvoke = AppendsPerInvoke, Description = "facade: AddMessageAsync")]
    public async Task AppendOne()
    {
        await _persistence.CreateSessionAsync("bench", ["Agent-1", "Agent-2"]);
        foreach (var message in _messages)
        {
            await _persistence.AddMessageAsync(message);
        }

        await _persistence.DeleteSessionAsync("bench");
    }

    [Benchmark(OperationsPerInvoke = BatchesPerInvoke, Description = "raw: append batch of 100")]
    public void RawAppendBatch()
    {
        var log = new RawMemoryLog();
        foreach (var batch in _batches)
        {
            log.Append(batch);
        }
    }

    [Benchmark(OperationsPerInvoke = BatchesPerInvoke, Description = "facade: AddMessagesAsync(100)")]
    public async Task AppendBatch()
    {
        await _persistence.CreateSessionAsync("bench", ["Agent-1", "Agent-2"]);
        foreach (var batch in _batches)
        {
            await _persistence.AddMessagesAsync("bench", batch);
        }

        await _persistence.DeleteSessionAsync("bench");
    }

    [Benchmark(Description = "raw: latest 50")]
    public ChatMessage[] RawLatest50() => _raw.Latest(50);

    [Benchmark(Description = "facade: GetMessagesAsync(latest 50)")]
    public Task<IReadOnlyList<ChatMessage>> Latest50() => _persistence.GetMessagesAsync("read", 50);

    [Benchmark(Description = "facade: ListSessionsAsync(participant, 50) of 1,000")]
    public Task<SessionPage> ListByParticipant() => _persistence.ListSessionsAsync(new SessionQuery { Participant = "Agent-3" });
}

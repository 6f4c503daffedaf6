using BenchmarkDotNet.Attributes;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Stores.Memory;

namespace Multichat.Persistence.Benchmarks.Json;

/// <summary>
/// The first page of sessions of one participant over 10,000 sessions (100 participants, so about 100 match), warm,
/// against the raw baseline: the same query on the in-memory store holding the same sessions.
/// </summary>
[MemoryDiagnoser]
public class JsonListBenchmarks
{
    private const int Sessions = 10_000;
    private static readonly SessionQuery ByParticipant = new() { Participant = "agent-7" };

    private string _root = "";
    private JsonStore _store = null!;
    private MemoryStore _memory = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _root = JsonBenchmarkStore.NewRoot();
        _store = JsonBenchmarkStore.Open(_root, Durability.Normal);
        _memory = new MemoryStore(TimeProvider.System);
        for (var i = 0; i < Sessions; i++)
        {
            var session = new ChatSession { SessionId = $"session-{i}", Participants = [$"agent-{i % 100}", "common"], Title = $"Session {i}" };
            await _store.CreateSessionAsync(session, SessionLimit.None);
            await _memory.CreateSessionAsync(session, SessionLimit.None);
            if (i % 10 == 0)
            {
                await _store.AppendMessagesAsync(session.SessionId, [JsonBenchmarkStore.Message(session.SessionId, "m-1") with { Sender = $"agent-{i % 100}" }], MessageLimit.None);
            }
        }

        // Warm: the first listing reads every session once; later ones read only what changed.
        await _store.ListSessionsAsync(ByParticipant);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _store.DisposeAsync();
        JsonBenchmarkStore.Delete(_root);
    }

    [Benchmark(Baseline = true)]
    public Task<SessionPage> MemoryListByParticipant() => _memory.ListSessionsAsync(ByParticipant);

    [Benchmark]
    public Task<SessionPage> JsonListByParticipant() => _store.ListSessionsAsync(ByParticipant);
}

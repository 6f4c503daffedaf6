using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Sqlite;

/// <summary>
/// What MaxSessions costs a create: the same create through the facade on a store of 10,000 sessions, without a limit
/// and with one (1,000,000, never reached) that the store checks by reading its session_count row inside the create's
/// write transaction. Each store has its own copy of one pre-filled file, so both start from the same state.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- --filter '*SqliteCreateSession*'</c>.</remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
[MedianColumn]
public class SqliteCreateSessionBenchmarks
{
    private const int Prefilled = 10_000;

    private static readonly string[] Participants = ["Agent-1", "Agent-2"];

    private string _folder = null!;
    private SessionPersistence _unlimited = null!;
    private SessionPersistence _limited = null!;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "multichat-bench-create-" + Guid.NewGuid().ToString("N")[..8]);
        var unlimitedFolder = Path.Combine(_folder, "unlimited");
        var limitedFolder = Path.Combine(_folder, "limited");
        var filling = Open(unlimitedFolder, maxSessions: null);
        try
        {
            for (var i = 0; i < Prefilled; i++)
            {
                filling.CreateSessionAsync($"prefilled-{i}", Participants).GetAwaiter().GetResult();
            }
        }
        finally
        {
            filling.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        // Disposing the only store checkpointed the WAL into sessions.db, so the file alone is the whole store.
        Directory.CreateDirectory(limitedFolder);
        File.Copy(Path.Combine(unlimitedFolder, "sessions.db"), Path.Combine(limitedFolder, "sessions.db"));
        _unlimited = Open(unlimitedFolder, maxSessions: null);
        _limited = Open(limitedFolder, maxSessions: 1_000_000);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _unlimited.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _limited.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task<ChatSession> CreateSession_NoLimit() => _unlimited.CreateSessionAsync("new-" + _counter++, Participants);

    [Benchmark]
    public Task<ChatSession> CreateSession_MaxSessions1M() => _limited.CreateSessionAsync("new-" + _counter++, Participants);

    private static SessionPersistence Open(string folder, int? maxSessions) =>
        SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = folder, MaxSessions = maxSessions });
}

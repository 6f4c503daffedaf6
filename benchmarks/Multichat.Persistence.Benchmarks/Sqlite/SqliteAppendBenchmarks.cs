using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Benchmarks.Sqlite;

/// <summary>
/// Appends through the store next to raw prepared INSERTs on the same schema and pragmas (WAL, synchronous=NORMAL):
/// one message per transaction, and a batch of 100 in one transaction. The store additionally reads the session's
/// head (counters and newest message), checks idempotency, and moves the session's activity row in the same transaction.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- --filter '*SqliteAppend*'</c>.</remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
[MedianColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SqliteAppendBenchmarks
{
    private const string Content = "A chat message of ordinary length, about a hundred characters, as agents write them to each other.";

    private string _folder = null!;
    private SqliteStore _store = null!;
    private SqliteRaw _raw = null!;
    private long _rawSequence;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "multichat-bench-append-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, SqliteStore.FileName);
        _store = new SqliteStore(new SqliteStoreOptions($"Data Source={path}", Durability.Normal, TimeSpan.FromSeconds(30), TimeProvider.System), NullLogger.Instance);
        _store.CreateSessionAsync(new ChatSession { SessionId = "store", Participants = ["Agent-1", "Agent-2"] }, SessionLimit.None).GetAwaiter().GetResult();
        _store.CreateSessionAsync(new ChatSession { SessionId = "raw", Participants = ["Agent-1", "Agent-2"] }, SessionLimit.None).GetAwaiter().GetResult();
        _raw = new SqliteRaw(path);
        _rawSequence = _raw.NextSequence("raw");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    [BenchmarkCategory("Single"), Benchmark(Baseline = true)]
    public void Raw_InsertOne() => _raw.Insert("raw", _rawSequence++, "m" + _counter++, Content);

    [BenchmarkCategory("Single"), Benchmark]
    public Task<IReadOnlyList<ChatMessage>> Store_AppendOne() =>
        _store.AppendMessagesAsync("store", [new ChatMessage { Id = "m" + _counter++, SessionId = "store", Sender = "Agent-1", Content = Content }], MessageLimit.None);

    [BenchmarkCategory("Batch100"), Benchmark(Baseline = true)]
    public void Raw_InsertBatch100()
    {
        _raw.Begin();
        for (var i = 0; i < 100; i++)
        {
            _raw.Insert("raw", _rawSequence++, "m" + _counter++, Content);
        }

        _raw.Commit();
    }

    [BenchmarkCategory("Batch100"), Benchmark]
    public Task<IReadOnlyList<ChatMessage>> Store_AppendBatch100()
    {
        var batch = new ChatMessage[100];
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = new ChatMessage { Id = "m" + _counter++, SessionId = "store", Sender = "Agent-1", Content = Content };
        }

        return _store.AppendMessagesAsync("store", batch, MessageLimit.None);
    }
}

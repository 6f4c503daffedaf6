using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Benchmarks.Sqlite;

/// <summary>
/// Cost against history length (DESIGN §4.6): reading the latest 50 messages and appending one, in a session of 1,000
/// and of 1,000,000 messages, next to the raw prepared statements on the same file. The databases are built once
/// under the temp folder and reused by later runs.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- --filter '*SqliteScale*'</c>.</remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
[MedianColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class SqliteScaleBenchmarks
{
    private const string Content = "A chat message of ordinary length, about a hundred characters, as agents write them to each other.";

    private static readonly MessageQuery Latest50 = new() { Limit = 50, Order = MessageOrder.NewestFirst };

    private SqliteStore _store = null!;
    private SqliteRaw _raw = null!;
    private long _rawSequence;
    private long _counter;

    [Params(1_000, 1_000_000)]
    public int Messages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(Path.GetTempPath(), "multichat-bench-scale", $"history-{Messages}", SqliteStore.FileName);
        if (!File.Exists(path))
        {
            Build(path, Messages);
        }

        _store = new SqliteStore(new SqliteStoreOptions($"Data Source={path}", Durability.Normal, TimeSpan.FromSeconds(30), TimeProvider.System), NullLogger.Instance);
        _raw = new SqliteRaw(path);
        _rawSequence = _raw.NextSequence("raw");
        _counter = DateTime.UtcNow.Ticks; // fresh ids on every run over the reused file
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [BenchmarkCategory("Latest50"), Benchmark(Baseline = true)]
    public List<ChatMessage> Raw_Latest50() => _raw.Latest("big", 50);

    [BenchmarkCategory("Latest50"), Benchmark]
    public Task<MessagePage> Store_Latest50() => _store.GetMessagesAsync("big", Latest50);

    [BenchmarkCategory("AppendOne"), Benchmark(Baseline = true)]
    public void Raw_InsertOne() => _raw.Insert("raw", _rawSequence++, "m" + _counter++, Content);

    [BenchmarkCategory("AppendOne"), Benchmark]
    public Task<IReadOnlyList<ChatMessage>> Store_AppendOne() =>
        _store.AppendMessagesAsync("big", [new ChatMessage { Id = "m" + _counter++, SessionId = "big", Sender = "Agent-1", Content = Content }], MessageLimit.None);

    /// <summary>Creates the schema through the store, then fills session "big" with raw inserts in one transaction.</summary>
    private static void Build(string path, int messages)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var building = path + ".building";
        File.Delete(building);
        var store = new SqliteStore(new SqliteStoreOptions($"Data Source={building}", Durability.Normal, TimeSpan.FromSeconds(30), TimeProvider.System), NullLogger.Instance);
        store.CreateSessionAsync(new ChatSession { SessionId = "big", Participants = ["Agent-1", "Agent-2"] }, SessionLimit.None).GetAwaiter().GetResult();
        store.CreateSessionAsync(new ChatSession { SessionId = "raw", Participants = ["Agent-1", "Agent-2"] }, SessionLimit.None).GetAwaiter().GetResult();
        store.DisposeAsync().AsTask().GetAwaiter().GetResult();

        using (var raw = new SqliteRaw(building))
        {
            raw.Begin();
            for (var i = 1; i <= messages; i++)
            {
                raw.Insert("big", i, "h" + i, Content);
            }

            raw.Commit();
        }

        using (var connection = new SqliteConnection($"Data Source={building};Pooling=False"))
        {
            connection.Open();
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE sessions SET last_seq = $n, message_count = $n WHERE session_id = 'big'; PRAGMA wal_checkpoint(TRUNCATE);";
            update.Parameters.AddWithValue("$n", messages);
            update.ExecuteNonQuery();
        }

        File.Move(building, path);
    }
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Multichat.Persistence.Benchmarks.Protection;

/// <summary>
/// What encryption costs (issue 12's goal: at most 1.5 µs more per 200-byte append, latest-50 within 1.5×): the same
/// store, content and calls with encryption off (the baseline of each category) and on, in one run. Appends go to a
/// fresh session each iteration; latest-50 reads a standing session of 1,000 messages.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ProtectionBenchmarks
{
    private const int AppendsPerInvoke = 2000;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "multichat-bench-protection", Guid.NewGuid().ToString("N")[..8]);
    private SessionPersistence _plain = null!;
    private SessionPersistence _encrypted = null!;
    private ChatMessage[] _messages = null!;
    private int _iteration;

    [Params(StorageType.Memory, StorageType.Json)]
    public StorageType Store { get; set; }

    [Params(200, 4096)]
    public int ContentSize { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _plain = Open("plain", encrypt: false);
        _encrypted = Open("encrypted", encrypt: true);
        var content = ProtectionText.Content(ContentSize);
        _messages = Enumerable.Range(0, AppendsPerInvoke)
            .Select(i => new ChatMessage { Id = $"m-{i}", SessionId = "x", Sender = "Agent-1", Recipient = "Agent-2", Content = content })
            .ToArray();
        foreach (var store in new[] { _plain, _encrypted })
        {
            await store.CreateSessionAsync("read", ["Agent-1", "Agent-2"]);
            foreach (var batch in _messages.Take(1000).Chunk(500))
            {
                await store.AddMessagesAsync("read", batch.Select(m => m with { SessionId = "read" }));
            }
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _plain.DisposeAsync();
        await _encrypted.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [IterationSetup]
    public void NewSessions()
    {
        _iteration++;
        _plain.CreateSessionAsync(SessionId, ["Agent-1", "Agent-2"]).GetAwaiter().GetResult();
        _encrypted.CreateSessionAsync(SessionId, ["Agent-1", "Agent-2"]).GetAwaiter().GetResult();
    }

    /// <summary>Drops the iteration's sessions, so memory stays flat (an encrypted message is a new string per append;
    /// a plain one shares the benchmark's content string, and a growing heap would bill the GC to encryption).</summary>
    [IterationCleanup]
    public void DropSessions()
    {
        _plain.DeleteSessionAsync(SessionId).GetAwaiter().GetResult();
        _encrypted.DeleteSessionAsync(SessionId).GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = AppendsPerInvoke, Description = "append, off")]
    [BenchmarkCategory("append")]
    public Task AppendPlain() => AppendAllAsync(_plain);

    [Benchmark(OperationsPerInvoke = AppendsPerInvoke, Description = "append, encrypted")]
    [BenchmarkCategory("append")]
    public Task AppendEncrypted() => AppendAllAsync(_encrypted);

    [Benchmark(Baseline = true, OperationsPerInvoke = 100, Description = "latest 50, off")]
    [BenchmarkCategory("latest-50")]
    public Task LatestPlain() => ReadLatestAsync(_plain);

    [Benchmark(OperationsPerInvoke = 100, Description = "latest 50, encrypted")]
    [BenchmarkCategory("latest-50")]
    public Task LatestEncrypted() => ReadLatestAsync(_encrypted);

    private string SessionId => $"append-{_iteration}";

    private async Task AppendAllAsync(SessionPersistence store)
    {
        var sessionId = SessionId;
        foreach (var message in _messages)
        {
            await store.AddMessageAsync(message with { SessionId = sessionId });
        }
    }

    private static async Task ReadLatestAsync(SessionPersistence store)
    {
        for (var i = 0; i < 100; i++)
        {
            await store.GetMessagesAsync("read", 50);
        }
    }

    private SessionPersistence Open(string name, bool encrypt)
    {
        var options = new SessionPersistenceOptions { StorageType = Store, StoragePath = Path.Combine(_root, name) };
        if (encrypt)
        {
            options.Encryption.CurrentKeyId = "bench";
            options.Encryption.Keys["bench"] = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        }

        return SessionPersistence.Create(options);
    }
}

using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Json;

/// <summary>
/// One new session created through the facade in a Json store that already holds <see cref="Prefilled"/> sessions:
/// without MaxSessions (the baseline) and with a MaxSessions that is never reached, so the ratio shows what the exact
/// limit costs per create (the session count lock and record, docs/storage/json.md "MaxSessions"). Each invocation
/// creates a new id; after each iteration those sessions are deleted again and dirty pages written back (sync), so every
/// iteration starts from the same 10,000 sessions and a quiet disk. Without that, create times grew 3-4x within a run
/// as the page cache filled, and whichever case ran second was the slower one.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(512)] // with an iteration cleanup BenchmarkDotNet would otherwise measure one create per iteration
public class JsonCreateSessionBenchmarks
{
    private const int Prefilled = 10_000;
    private const int NeverReached = 1_000_000;
    private static readonly string[] Participants = ["Agent-1", "Agent-2"];

    private string _root = "";
    private SessionPersistence _persistence = null!;
    private readonly List<string> _created = [];
    private long _next;

    [GlobalSetup(Target = nameof(CreateWithoutLimit))]
    public Task SetupWithoutLimitAsync() => SetupAsync(maxSessions: null);

    [GlobalSetup(Target = nameof(CreateWithLimit))]
    public Task SetupWithLimitAsync() => SetupAsync(NeverReached);

    /// <summary>Deletes what the iteration created and settles the disk, so every iteration measures the same store.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        foreach (var id in _created)
        {
            _persistence.DeleteSessionAsync(id).GetAwaiter().GetResult();
        }

        _created.Clear();
        SettleFileSystem();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _persistence.DisposeAsync();
        JsonBenchmarkStore.Delete(_root);

        // The next case's process must not measure the write-back of tens of thousands of deleted files.
        SettleFileSystem();
    }

    [Benchmark]
    public Task<ChatSession> CreateWithLimit() => CreateNextAsync();

    [Benchmark(Baseline = true)]
    public Task<ChatSession> CreateWithoutLimit() => CreateNextAsync();

    private Task<ChatSession> CreateNextAsync()
    {
        var id = "b-" + (++_next).ToString(CultureInfo.InvariantCulture);
        _created.Add(id);
        return _persistence.CreateSessionAsync(id, Participants);
    }

    private async Task SetupAsync(int? maxSessions)
    {
        _root = JsonBenchmarkStore.NewRoot();

        // Filled through the same instance, so the limited case starts from an exact count (no recount while measured).
        _persistence = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Json,
            StoragePath = _root,
            MaxSessions = maxSessions,
        });
        for (var i = 0; i < Prefilled; i++)
        {
            await _persistence.CreateSessionAsync("p-" + i.ToString(CultureInfo.InvariantCulture), Participants);
        }

        SettleFileSystem();
    }

    /// <summary>Writes dirty pages back (sync(1)), so what one iteration or case wrote does not slow the next one down.</summary>
    private static void SettleFileSystem()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            using var sync = System.Diagnostics.Process.Start("sync");
            sync?.WaitForExit();
        }
    }
}

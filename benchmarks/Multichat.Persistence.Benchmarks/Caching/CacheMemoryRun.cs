using Multichat.Persistence.Caching;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Benchmarks.Caching;

/// <summary>
/// Whether the cache's memory stays within its bounds in a real heap: a Sqlite store of many sessions (100 messages of
/// ~265 bytes each) is read session by session (latest 100) through an instance with the cache off and through ones
/// with the cache on at several bounds; after each, the managed heap retained after a full collection, against the
/// cache-off instance's, and what the cache counted. Memory-only facts, so a plain run rather than BenchmarkDotNet.
/// <c>dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- cache-memory [sessions]</c>
/// </summary>
internal static class CacheMemoryRun
{
    private const int MessagesPerSession = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var sessions = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000;
        var root = Path.Combine(Path.GetTempPath(), "multichat-bench-cache-memory", Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await FillAsync(root, sessions);
            Console.WriteLine($"{sessions:N0} sessions x {MessagesPerSession} messages, each read once (latest {MessagesPerSession})");
            Console.WriteLine("| cache | MaxSessions | MaxBytes | sessions cached | bytes counted | heap retained | over cache off | retained / MaxBytes |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            var off = await MeasureAsync(root, sessions, cache: null);
            Console.WriteLine($"| off | | | | | {Mib(off.Heap)} | | |");
            foreach (var (maxSessions, maxBytes) in new[] { (CacheOptions.DefaultMaxSessions, CacheOptions.DefaultMaxBytes), (1_000_000, 16L << 20), (1_000_000, 64L << 20), (100, 64L << 20) })
            {
                var on = await MeasureAsync(root, sessions, new CacheOptions { Enabled = true, MaxSessions = maxSessions, MaxBytes = maxBytes, MessagesPerSession = MessagesPerSession });
                var over = on.Heap - off.Heap;
                Console.WriteLine(
                    $"| on | {maxSessions:N0} | {Mib(maxBytes)} | {on.Count:N0} | {Mib(on.Counted)} | {Mib(on.Heap)} | {Mib(over)} | {(double)over / maxBytes:P1} |");
            }
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }

        return 0;
    }

    private static async Task FillAsync(string root, int sessions)
    {
        await using var store = SessionPersistence.Create(Options(root, cache: null));
        var at = DateTimeOffset.UtcNow;
        for (var s = 0; s < sessions; s++)
        {
            var id = $"s-{s}";
            await store.Store.ImportSessionAsync(
                new ChatSession { SessionId = id, Participants = ["Agent-1", "Agent-2"], CreatedAt = at, UpdatedAt = at, Version = 1, LastSequence = MessagesPerSession },
                replaceExisting: true);
            await store.Store.ImportMessagesAsync(id, [.. Enumerable.Range(1, MessagesPerSession).Select(i => Message(id, i, at))]);
        }
    }

    private static async Task<(long Heap, int Count, long Counted)> MeasureAsync(string root, int sessions, CacheOptions? cache)
    {
        await using var store = SessionPersistence.Create(Options(root, cache));
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var s = 0; s < sessions; s++)
        {
            await store.GetMessagesAsync($"s-{s}", MessagesPerSession);
        }

        var heap = GC.GetTotalMemory(forceFullCollection: true) - before;
        var entries = cache is null ? null : SessionStorePipeline.Layers(store.Store).OfType<CachingSessionStore>().Single().Entries;
        GC.KeepAlive(store);
        return (heap, entries?.Count ?? 0, entries?.Bytes ?? 0);
    }

    private static SessionPersistenceOptions Options(string root, CacheOptions? cache) =>
        new() { StorageType = StorageType.Sqlite, StoragePath = root, Cache = cache ?? new CacheOptions() };

    private static ChatMessage Message(string sessionId, int sequence, DateTimeOffset at) => new()
    {
        Id = $"m-{sequence}",
        SessionId = sessionId,
        Sender = sequence % 2 == 0 ? "Agent-2" : "Agent-1",
        Recipient = sequence % 2 == 0 ? "Agent-1" : "Agent-2",
        Sequence = sequence,
        Timestamp = at,
        Content = $"Turn {sequence}: here is the next step of the plan, with the file list and the test command we agreed on; reply when done. " +
            "The second paragraph repeats the constraints so a reader can check them: no network, no model, loopback only, one commit.",
    };

    private static string Mib(long bytes) => $"{bytes / 1024.0 / 1024.0:F1} MiB";
}

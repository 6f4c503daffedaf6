using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Benchmarks.Json;

/// <summary>Opens a Json store in a fresh temp folder and fills a session, for the Json benchmarks.</summary>
internal static class JsonBenchmarkStore
{
    public static string NewRoot() => Path.Combine(Path.GetTempPath(), "multichat-json-bench", Guid.NewGuid().ToString("N")[..12]);

    public static JsonStore Open(string root, Durability durability) =>
        new(new JsonStoreOptions(root, durability, TimeSpan.FromSeconds(30), TimeProvider.System), NullLoggerFactory.Instance);

    public static ChatMessage Message(string sessionId, string id) => new()
    {
        Id = id,
        SessionId = sessionId,
        Sender = "Agent-1",
        Recipient = "Agent-2",
        Content = "A typical chat message of about a hundred characters, the kind agents send each other all day.",
    };

    public static async Task FillAsync(JsonStore store, string sessionId, int count)
    {
        await store.CreateSessionAsync(new ChatSession { SessionId = sessionId, Participants = ["Agent-1", "Agent-2"] }, SessionLimit.None);
        var batch = new ChatMessage[Math.Min(count, 1000)];
        for (var done = 0; done < count; done += batch.Length)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = Message(sessionId, $"h-{done + i}");
            }

            await store.AppendMessagesAsync(sessionId, batch, MessageLimit.None);
        }
    }

    public static void Delete(string root)
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Prints what the process holds, so runs at different history sizes can be compared for growth: managed heap,
    /// working set and, on Linux, resident anonymous memory (RssAnon: the process's own) and resident file-backed memory
    /// (RssFile: mapped files — the runtime's libraries, and the sessions' ids.idx tables, which are OS page cache, shared
    /// with other processes and reclaimable). With <paramref name="root"/>, also the size of the id files under it.
    /// </summary>
    public static void ReportMemory(string label, string? root = null)
    {
        // An aggressive collection also returns freed memory to the OS, so RssAnon shows what is still in use.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var report = new StringBuilder($"// {label}: managed heap {Mib(GC.GetTotalMemory(forceFullCollection: false))} MiB, working set {Mib(Environment.WorkingSet)} MiB");
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("RssAnon:", StringComparison.Ordinal) || line.StartsWith("RssFile:", StringComparison.Ordinal))
                {
                    var kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    report.Append(CultureInfo.InvariantCulture, $", {line[..line.IndexOf(':', StringComparison.Ordinal)]} {Mib(kib * 1024)} MiB");
                }
            }
        }

        if (root is not null && Directory.Exists(root))
        {
            var ids = Directory.EnumerateFiles(root, "ids.idx", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            report.Append(CultureInfo.InvariantCulture, $", ids.idx {Mib(ids)} MiB on disk");
        }

        Console.WriteLine(report.ToString());
    }

    private static string Mib(long bytes) => (bytes / (1024 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture);
}

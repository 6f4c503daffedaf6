using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Benchmarks.Json;

/// <summary>Opens a Json store in a fresh temp folder and fills a session, for the Json benchmarks.</summary>
internal static class JsonBenchmarkStore
{
    public static string NewRoot() => Path.Combine(Path.GetTempPath(), "multichat-json-bench", Guid.NewGuid().ToString("N")[..12]);

    public static JsonStore Open(string root, Durability durability) =>
        new(root, durability, TimeProvider.System, NullLoggerFactory.Instance);

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
        await store.CreateSessionAsync(new ChatSession { SessionId = sessionId, Participants = ["Agent-1", "Agent-2"] });
        var batch = new ChatMessage[Math.Min(count, 1000)];
        for (var done = 0; done < count; done += batch.Length)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = Message(sessionId, $"h-{done + i}");
            }

            await store.AppendMessagesAsync(sessionId, batch, 0);
        }
    }

    public static void Delete(string root)
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Prints managed heap and working set, so runs at different history sizes can be compared for growth.</summary>
    public static void ReportMemory(string label)
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// {label}: managed heap {heap / (1024 * 1024.0):F1} MiB, working set {Environment.WorkingSet / (1024 * 1024.0):F1} MiB");
    }
}

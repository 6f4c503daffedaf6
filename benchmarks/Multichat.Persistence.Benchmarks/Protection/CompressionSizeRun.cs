using System.Text;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Benchmarks.Protection;

/// <summary>
/// Stored size of a generated multi-agent conversation (3,000 turns, prose and code blocks) with compression off and
/// on, with and without encryption: the UTF-8 bytes of the stored content values (below the protection layer) and
/// the Json store's folder on disk.
/// <c>dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- compression-size</c>
/// </summary>
internal static class CompressionSizeRun
{
    public static async Task<int> RunAsync()
    {
        var turns = ProtectionText.Conversation(3000).ToArray();
        var plainBytes = turns.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        Console.WriteLine($"{turns.Length} turns, {plainBytes:N0} UTF-8 bytes of content, {turns.Count(t => t.Contains("```", StringComparison.Ordinal))} with code");
        Console.WriteLine("| setting | stored content bytes | vs plain | Json folder on disk | vs plain |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        long? plainFolder = null;
        foreach (var (name, compress, encrypt) in new[] { ("off", false, false), ("compression", true, false), ("encryption", false, true), ("compression + encryption", true, true) })
        {
            var root = Path.Combine(Path.GetTempPath(), "multichat-bench-compression", Guid.NewGuid().ToString("N")[..8]);
            var options = new SessionPersistenceOptions { StorageType = StorageType.Json, StoragePath = root };
            options.Compression.Enabled = compress;
            if (encrypt)
            {
                options.Encryption.CurrentKeyId = "bench";
                options.Encryption.Keys["bench"] = Convert.ToBase64String(new byte[32]);
            }

            long stored = 0;
            await using (var store = SessionPersistence.Create(options))
            {
                await store.CreateSessionAsync("s", ["Agent-1", "Agent-2", "Agent-3"]);
                var messages = turns.Select((t, i) => new ChatMessage { Id = $"m-{i}", SessionId = "s", Sender = $"Agent-{i % 3 + 1}", Content = t });
                foreach (var batch in messages.Chunk(500))
                {
                    await store.AddMessagesAsync("s", batch);
                }

                var raw = SessionStorePipeline.StoredForm(store.Store);
                MessageQuery? query = new() { Order = MessageOrder.OldestFirst, Limit = 1000 };
                while (query is not null)
                {
                    var page = await raw.GetMessagesAsync("s", query, CancellationToken.None);
                    stored += page.Messages.Sum(m => (long)Encoding.UTF8.GetByteCount(m.Content));
                    query = page.Next;
                }
            }

            var folder = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            plainFolder ??= folder;
            Console.WriteLine($"| {name} | {stored:N0} | {(double)stored / plainBytes:P0} | {folder:N0} | {(double)folder / plainFolder:P0} |");
            Directory.Delete(root, recursive: true);
        }

        return 0;
    }
}

// Every store through the library in a natively compiled (AOT) app: what a trimmed or AOT-published app of yours does.
//
//   dotnet publish samples/Multichat.AotSample -c Release -o ./aot && ./aot/Multichat.AotSample [redis host:port]
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Multichat.Persistence;

var folder = Path.Combine(Path.GetTempPath(), "multichat-aot-" + Guid.NewGuid().ToString("N"));
var stores = new List<(string Name, Dictionary<string, string?> Settings)>
{
    ("Memory", new() { ["StorageType"] = "Memory" }),
    ("Json", new() { ["StorageType"] = "Json", ["StoragePath"] = Path.Combine(folder, "json") }),
    ("Sqlite", new() { ["StorageType"] = "Sqlite", ["StoragePath"] = Path.Combine(folder, "sqlite") }),
    // The layers too: encryption and compression (a fixed demo key; never ship a key in code).
    ("Json, encrypted and compressed", new()
    {
        ["StorageType"] = "Json",
        ["StoragePath"] = Path.Combine(folder, "json-protected"),
        ["Encryption:Keys:k1"] = Convert.ToBase64String(new byte[32]),
        ["Encryption:CurrentKeyId"] = "k1",
        ["Compression:Enabled"] = "true",
    }),
};
if (args is [var redis, ..])
{
    stores.Add(("Redis", new() { ["StorageType"] = "Redis", ["ConnectionString"] = redis, ["RedisKeyPrefix"] = $"aot-{Guid.NewGuid():N}:" }));
}

try
{
    foreach (var (name, settings) in stores)
    {
        // Options bound from configuration, as an app does: source-generated binding, no reflection.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var services = new ServiceCollection().AddSessionPersistence(configuration).BuildServiceProvider();
        var persistence = services.GetRequiredService<SessionPersistence>();

        await persistence.CreateSessionAsync("s-1", ["ada", "bob"], title: "AOT");
        await persistence.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "ada", Recipient = "bob", Content = "hello" });
        var inbox = await persistence.GetInboxAsync("bob");
        await persistence.AddMessagesAsync("s-1", [new ChatMessage { Id = "m-2", SessionId = "s-1", Sender = "bob", Content = "hi" }]);
        var read = await persistence.GetReadStateAsync("s-1", "bob");
        var latest = await persistence.GetMessagesAsync("s-1");
        var backup = new MemoryStream();
        await persistence.BackupAsync(backup);
        var health = await persistence.CheckHealthAsync();
        var ok = latest.Count == 2 && latest[1].Sequence == 2 && inbox.Messages.Count == 1 && read.LastReadSequence == 2 && backup.Length > 0 && health.IsHealthy;
        Console.WriteLine($"{name}: {(ok ? "ok" : "FAILED")} ({latest.Count} messages, backup {backup.Length} bytes)");
        if (!ok)
        {
            return 1;
        }
    }

    return 0;
}
finally
{
    if (Directory.Exists(folder))
    {
        Directory.Delete(folder, recursive: true);
    }
}

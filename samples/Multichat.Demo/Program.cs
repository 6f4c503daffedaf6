// A three-agent conversation stored through SessionPersistence, then read back from the store.
//
//   dotnet run --project samples/Multichat.Demo                      (Json files in ./demo-sessions, the default store)
//   dotnet run --project samples/Multichat.Demo -- --store Sqlite --path ./demo-db
//   dotnet run --project samples/Multichat.Demo -- --store Redis --path redis://127.0.0.1:6379
using Multichat.Persistence;

var storageType = StorageType.Json;
var path = Path.Combine(Environment.CurrentDirectory, "demo-sessions");
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--store":
            storageType = Enum.Parse<StorageType>(args[i + 1], ignoreCase: true);
            break;
        case "--path":
            path = args[i + 1];
            break;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}; use --store Json|Sqlite|Memory|Redis and --path.");
            return 2;
    }
}

await using var persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = storageType, StoragePath = path });

// Each run starts its own conversation; earlier runs stay in the store and are counted below.
var sessionId = $"demo-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss-fff}";
string[] agents = ["Planner", "Researcher", "Writer"];
await persistence.CreateSessionAsync(sessionId, agents, title: "Write a haiku about persistence");

(string From, string? To, string Text)[] script =
[
    ("Planner", null, "Goal: a haiku about data that survives restarts. Researcher, find imagery; Writer, draft."),
    ("Researcher", "Writer", "Imagery: ink on stone, tide lines, seeds in winter soil."),
    ("Writer", null, "Draft: Ink sinks into stone / the process dies, the words stay / morning reads them back."),
    ("Planner", "Writer", "Good. Keep line two; make line three about order."),
    ("Writer", null, "Final: Ink sinks into stone / the process dies, the words stay / one, two, three, in turn."),
];

var turn = 0;
foreach (var (from, to, text) in script)
{
    await persistence.AddMessageAsync(new ChatMessage
    {
        Id = $"turn-{++turn}",
        SessionId = sessionId,
        Sender = from,
        Recipient = to,
        Content = text,
    });
}

// A retry of an acknowledged message is not stored twice.
await persistence.AddMessageAsync(new ChatMessage { Id = "turn-5", SessionId = sessionId, Sender = "Writer", Content = "(retry)" });

var session = await persistence.GetSessionAsync(sessionId);
Console.WriteLine($"Store: {storageType} ({(storageType == StorageType.Memory ? "in memory" : path)})");
Console.WriteLine($"Session '{session!.Title}' with {string.Join(", ", session.Participants)}: {session.MessageCount} messages");
Console.WriteLine();
foreach (var message in await persistence.GetMessagesAsync(sessionId, limit: 50))
{
    Console.WriteLine($"  #{message.Sequence} {message.Sender} -> {message.Recipient ?? "all"}: {message.Content}");
}

var statistics = await persistence.GetStatisticsAsync();
Console.WriteLine();
Console.WriteLine($"The store now holds {statistics.SessionCount} session(s) and {statistics.MessageCount} message(s).");
return 0;

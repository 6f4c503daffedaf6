// A three-agent conversation stored through SessionPersistence, then read back from the store.
//
//   dotnet run --project samples/Multichat.Demo                      (Json files in ./demo-sessions, the default store)
//   dotnet run --project samples/Multichat.Demo -- --store Sqlite --path ./demo-db
//   dotnet run --project samples/Multichat.Demo -- --store Redis --path redis://127.0.0.1:6379
//   dotnet run --project samples/Multichat.Demo -- feed             (two agents in two processes, through the change feed)
using Microsoft.Extensions.Options;
using Multichat.Persistence;

// "feed" runs the two-process change-feed demo; "feed-answerer <session>" is its second process.
var mode = args is ["feed", ..] ? "feed" : args is ["feed-answerer", _, ..] ? "feed-answerer" : "conversation";
var feedSession = mode == "feed-answerer" ? args[1] : null;
var storeArguments = mode switch { "feed" => args[1..], "feed-answerer" => args[2..], _ => args };
var storageType = StorageType.Json;
string? path = null;
for (var i = 0; i < storeArguments.Length; i++)
{
    var option = storeArguments[i];
    var value = i + 1 < storeArguments.Length ? storeArguments[++i] : null;
    switch (option)
    {
        case "--store" when value is null:
            return Usage("--store needs a value.");
        case "--store":
            if (!value.All(char.IsLetter) || !Enum.TryParse(value, ignoreCase: true, out storageType))
            {
                return Usage($"--store '{value}' is not a store.");
            }

            break;
        case "--path" when value is null:
            return Usage("--path needs a value.");
        case "--path":
            path = value;
            break;
        default:
            return Usage($"Unknown option '{option}'.");
    }
}

if (storageType == StorageType.Redis && path is null)
{
    return Usage("--store Redis needs --path redis://host:port, for example --path redis://127.0.0.1:6379.");
}

if (mode != "conversation" && storageType == StorageType.Memory)
{
    return Usage("The feed demo runs two processes: it needs a store they share (Json, Sqlite or Redis), not Memory.");
}

path ??= Path.Combine(Environment.CurrentDirectory, storageType == StorageType.Sqlite ? "demo-db" : "demo-sessions");
try
{
    return mode switch
    {
        "feed" => await FeedDemo.RunAsync(storageType, path, storeArguments),
        "feed-answerer" => await FeedDemo.AnswerAsync(storageType, path, feedSession!),
        _ => await RunAsync(storageType, path),
    };
}
catch (Exception ex) when (ex is SessionPersistenceException or OptionsValidationException)
{
    // One clear line instead of a stack trace: the store cannot be reached, or a setting is wrong.
    Console.Error.WriteLine($"The demo could not use the {storageType} store at '{path}': {ex.Message}");
    return 1;
}

static int Usage(string problem)
{
    Console.Error.WriteLine($"{problem} Usage: [feed] --store Json|Sqlite|Memory|Redis [--path <folder or redis://host:port>]");
    return 2;
}

static async Task<int> RunAsync(StorageType storageType, string path)
{
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
}

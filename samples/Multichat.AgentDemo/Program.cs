// Three Microsoft Agent Framework agents share one multichat session, are stopped, restarted, and carry on where they
// left off; run it again and they carry on from there. The model is a deterministic local stand-in (LocalModel).
//
//   dotnet run --project samples/Multichat.AgentDemo                          (Json files in ./agent-demo-sessions)
//   dotnet run --project samples/Multichat.AgentDemo -- --store Sqlite --path ./agent-demo-db
//   dotnet run --project samples/Multichat.AgentDemo -- --store Redis --path 127.0.0.1:6379
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Multichat.AgentDemo;
using Multichat.Persistence;
using Multichat.Persistence.AgentFramework;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

const string Room = "agent-demo-room";

var storageType = StorageType.Json;
string? path = null;
for (var i = 0; i < args.Length; i += 2)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--store" when value is not null && value.All(char.IsLetter) && Enum.TryParse(value, ignoreCase: true, out storageType):
            break;
        case "--path" when value is not null:
            path = value;
            break;
        default:
            Console.Error.WriteLine($"Usage: dotnet run --project samples/Multichat.AgentDemo [-- --store Json|Sqlite|Redis --path <folder or host:port>] ('{args[i]}' {(value is null ? "needs a value" : "is not understood")}).");
            return 2;
    }
}

if (storageType == StorageType.Memory)
{
    Console.Error.WriteLine("The agent demo restarts its store, so it needs one that keeps data: Json, Sqlite or Redis.");
    return 2;
}

var options = new SessionPersistenceOptions { StorageType = storageType };
if (storageType == StorageType.Redis)
{
    options.ConnectionString = path ?? "127.0.0.1:6379";
}
else
{
    options.StoragePath = path ?? (storageType == StorageType.Sqlite ? "./agent-demo-db" : "./agent-demo-sessions");
}

Console.WriteLine($"Store: {storageType}");
for (var life = 1; life <= 2; life++)
{
    // Each life is a fresh process would be: a new store instance, new provider, new agents. Only the store remembers.
    await using var persistence = SessionPersistence.Create(options);
    var history = new MultichatChatHistoryProvider(persistence);
    var room = await persistence.GetSessionAsync(Room);
    Console.WriteLine(room is null
        ? $"-- life {life}: a new conversation '{Room}'"
        : $"-- life {life}: continuing '{Room}' ({room.MessageCount} messages stored, participants {string.Join(", ", room.Participants)})");

    var notes = AIFunctionFactory.Create((string topic) => $"{topic}: every message is stored once, in order", "read_notes");
    var planner = Agent("planner", history);
    var researcher = Agent("researcher", history, notes);
    var writer = Agent("writer", history);

    var last = room?.LastSequence ?? 0;
    var plannerSession = await Join(planner, history);
    await planner.RunAsync(room is null ? "Plan a short note on chat persistence." : "Carry on where we left off.", plannerSession);
    await researcher.RunAsync(await Join(researcher, history));
    await writer.RunAsync(await Join(writer, history));

    var page = await persistence.GetMessagesAsync(Room, new MessageQuery { AfterSequence = last, Limit = MessageQuery.MaxLimit });
    foreach (var stored in page.Messages)
    {
        Console.WriteLine($"  #{stored.Sequence} {stored.Sender}: {Describe(AIChatMessageMapping.ToAIChatMessage(stored))}");
    }
}

var final = await ReadRoomAsync(options);
Console.WriteLine($"'{Room}' now holds {final.MessageCount} messages; run the demo again and the agents continue from #{final.LastSequence}.");
return 0;

static ChatClientAgent Agent(string name, MultichatChatHistoryProvider history, AIFunction? tool = null) =>
    new(new LocalModel(name), new ChatClientAgentOptions
    {
        Name = name,
        ChatHistoryProvider = history,
        ChatOptions = new ChatOptions { Tools = tool is null ? null : [tool] },
#pragma warning disable MAAI001 // Experimental in Agent Framework 1.28: history stored after every model call of a tool loop.
        RequirePerServiceCallChatHistoryPersistence = tool is not null,
#pragma warning restore MAAI001
    });

// Every agent's session points at the one shared room; the agent joins it as a participant on its first run.
static async Task<AgentSession> Join(ChatClientAgent agent, MultichatChatHistoryProvider history)
{
    var session = await agent.CreateSessionAsync();
    history.SetSessionId(session, Room);
    return session;
}

static string Describe(AIChatMessage message) => string.Join(" ", message.Contents.Select(content => content switch
{
    FunctionCallContent call => $"[calls {call.Name}]",
    FunctionResultContent result => $"[{result.CallId} -> {result.Result}]",
    TextContent text => text.Text,
    _ => $"[{content.GetType().Name}]",
}));

static async Task<ChatSession> ReadRoomAsync(SessionPersistenceOptions options)
{
    await using var persistence = SessionPersistence.Create(options);
    return (await persistence.GetSessionAsync(Room))!;
}

// The Agent Framework adapter's README snippet as a checked program. scripts/verify-package.sh puts the snippet of
// src/Multichat.Persistence.AgentFramework/README.md, verbatim, in place of the marker (its using directives go first)
// and runs it against the packed packages; a local stand-in model plays `chatClient`. Afterwards this checks that
// the history was stored, and that a second store instance (a restarted process) gives the agent all of it.
using Microsoft.Extensions.AI;

var workDir = Path.Combine(Path.GetTempPath(), "multichat-agent-quickstart-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(workDir);
Environment.CurrentDirectory = workDir;
IChatClient chatClient = new EchoChatClient();

// {README quick start}

await store.DisposeAsync();
await using var reopened = SessionPersistence.Create(new SessionPersistenceOptions { StoragePath = "./sessions" });
var restarted = new ChatClientAgent(chatClient, new ChatClientAgentOptions { Name = "planner", ChatHistoryProvider = new MultichatChatHistoryProvider(reopened) });
var again = await restarted.CreateSessionAsync();
((MultichatChatHistoryProvider)restarted.ChatHistoryProvider!).SetSessionId(again, "project-room");
var answer = await restarted.RunAsync("And today?", again);
Check(answer.Text == "heard 3 messages", $"the restarted agent sees the stored turn and its new message (it said '{answer.Text}')");
Check((await reopened.GetSessionAsync("project-room"))?.MessageCount == 4, "both turns are stored");
Console.WriteLine("agent quick start OK against the packed packages.");
Directory.Delete(workDir, recursive: true);

static void Check(bool condition, string what)
{
    if (!condition)
    {
        Console.Error.WriteLine($"agent quick start check failed: {what}");
        Environment.Exit(1);
    }
}

// A stand-in model: answers with how many messages it was given. (Multichat.Persistence has a ChatMessage too, hence
// the full name.)
internal sealed class EchoChatClient : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new Microsoft.Extensions.AI.ChatMessage(ChatRole.Assistant, $"heard {messages.Count()} messages")));

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

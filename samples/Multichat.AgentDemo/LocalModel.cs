using Microsoft.Extensions.AI;

namespace Multichat.AgentDemo;

/// <summary>
/// A deterministic stand-in for a model (no network, no weights): each agent answers the latest message it sees, and
/// counts the whole history it was given, which shows that history survives the restart. An agent with a tool calls
/// it once per turn before it answers.
/// </summary>
internal sealed class LocalModel(string agent) : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var history = messages.ToList();
        var last = history[^1];
        if (last.Contents.OfType<FunctionResultContent>().FirstOrDefault() is { } result)
        {
            return Answer($"{agent}: the notes say \"{result.Result}\".");
        }

        if (options?.Tools is { Count: > 0 } tools)
        {
            var call = new FunctionCallContent($"{agent}-{history.Count}", tools[0].Name, new Dictionary<string, object?> { ["topic"] = "storage" });
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [call])));
        }

        var speaker = last.AuthorName ?? last.Role.Value;
        return Answer($"{agent}: replying to {speaker} (I can see {history.Count} messages).");
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static Task<ChatResponse> Answer(string text) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)));
}

using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>
/// A deterministic local model: it answers "&lt;name&gt; heard: &lt;last user text&gt; (&lt;n&gt; messages)", and when
/// the last user text asks for the weather it first calls the <c>get_weather</c> tool, then answers with the tool's
/// result. It records every call's messages so a test can see exactly what history the agent sent.
/// </summary>
internal sealed class ScriptedChatClient(string name) : IChatClient
{
    public const string WeatherTool = "get_weather";

    private readonly List<IReadOnlyList<AIChatMessage>> _calls = [];

    /// <summary>The messages of each call, in call order.</summary>
    public IReadOnlyList<IReadOnlyList<AIChatMessage>> Calls => _calls;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        _calls.Add(list);
        var last = list[^1];
        if (last.Contents.OfType<FunctionResultContent>().FirstOrDefault() is { } result)
        {
            return Task.FromResult(new ChatResponse(new AIChatMessage(ChatRole.Assistant, $"{name}: the weather is {result.Result}")));
        }

        var heard = list.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        if (heard.Contains("weather", StringComparison.OrdinalIgnoreCase) && options?.Tools is { Count: > 0 })
        {
            var call = new FunctionCallContent($"call-{list.Count}", WeatherTool, new Dictionary<string, object?> { ["city"] = "Oslo" });
            return Task.FromResult(new ChatResponse(new AIChatMessage(ChatRole.Assistant, [call])));
        }

        return Task.FromResult(new ChatResponse(new AIChatMessage(ChatRole.Assistant, $"{name} heard: {heard} ({list.Count} messages)")));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<AIChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

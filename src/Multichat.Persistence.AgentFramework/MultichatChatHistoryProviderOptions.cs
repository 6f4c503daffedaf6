using System.Text.Json;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Multichat.Persistence.AgentFramework;

/// <summary>Settings of a <see cref="MultichatChatHistoryProvider"/>.</summary>
public sealed class MultichatChatHistoryProviderOptions
{
    private int _maxHistoryMessages = 100;

    /// <summary>
    /// How many of the session's latest messages are given to the agent at the start of a run (the window): 1 to
    /// <see cref="MessageQuery.MaxLimit"/>, default 100. Older messages stay stored and readable
    /// (<see cref="MultichatChatHistoryProvider.ReadAllMessagesAsync"/>); the cost of a run does not grow with them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 1 to <see cref="MessageQuery.MaxLimit"/>.</exception>
    public int MaxHistoryMessages
    {
        get => _maxHistoryMessages;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MaxHistoryMessages));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MessageQuery.MaxLimit, nameof(MaxHistoryMessages));
            _maxHistoryMessages = value;
        }
    }

    /// <summary>
    /// Chooses the multichat session of an agent session on its first run; <see langword="null"/> (the default) or a
    /// <see langword="null"/> result gives a new session with a random id. Return a known id to put several agents in
    /// one shared session (each joins it as a participant), or an id derived from your own conversation key.
    /// </summary>
    public Func<AgentSession, string?>? SessionIdFactory { get; set; }

    /// <summary>
    /// The options chat messages are stored and read with; default <see cref="AIJsonUtilities.DefaultOptions"/>. Give
    /// options with your custom <see cref="AIContent"/> types registered
    /// (<see cref="AIJsonUtilities.AddAIContentType{TContent}(JsonSerializerOptions, string)"/>) to store those.
    /// </summary>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>The key of the provider's state in <see cref="AgentSession.StateBag"/>; default the provider's type name.
    /// Set it when one agent session uses two providers of this type.</summary>
    public string? StateKey { get; set; }

    /// <summary>Filters the stored messages before they are given to the agent; none by default.</summary>
    public Func<IEnumerable<AIChatMessage>, IEnumerable<AIChatMessage>>? ProvideOutputMessageFilter { get; set; }

    /// <summary>Filters a run's request messages before they are stored; by default messages that came from chat history are left out.</summary>
    public Func<IEnumerable<AIChatMessage>, IEnumerable<AIChatMessage>>? StorageInputRequestMessageFilter { get; set; }

    /// <summary>Filters a run's response messages before they are stored; none by default.</summary>
    public Func<IEnumerable<AIChatMessage>, IEnumerable<AIChatMessage>>? StorageInputResponseMessageFilter { get; set; }
}

using System.Text.Json.Serialization;

namespace Multichat.Persistence.AgentFramework;

/// <summary>
/// What a <see cref="MultichatChatHistoryProvider"/> keeps in an agent session's state bag, so it travels with the
/// session when the session is serialized: which multichat session holds the history, and what the current turn is.
/// </summary>
internal sealed class HistoryState
{
    /// <summary>The multichat session's id; <see langword="null"/> until the first run chooses one.</summary>
    [JsonPropertyName("sessionId")]
    public string? SessionId { get; set; }

    /// <summary>Whether this agent session's agent is known to be a participant of <see cref="SessionId"/>.</summary>
    [JsonPropertyName("joined")]
    public bool Joined { get; set; }

    /// <summary>The session's last sequence when the current turn's history was provided: the turn's anchor for the
    /// ids of messages that come without one.</summary>
    [JsonPropertyName("turn")]
    public long Turn { get; set; }
}

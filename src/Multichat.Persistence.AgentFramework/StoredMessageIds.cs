using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Multichat.Persistence.AgentFramework;

/// <summary>
/// The stored id of a chat message, which is what makes storing it again a no-op: its own
/// <see cref="AIChatMessage.MessageId"/> when the store accepts that as an id, a hash of it when not, and for a
/// message without one a hash of its JSON, the turn it arrived in and its place among equal messages of that turn.
/// </summary>
internal static class StoredMessageIds
{
    // The store's id rules (DESIGN §4.7): 1 to 256 characters, no control character, no lone surrogate.
    private const int MaxIdLength = 256;

    /// <summary>Whether the message carries an id the store accepts as it is.</summary>
    public static bool IsStorable(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (c < ' ' || (c >= '\u007f' && c <= '\u009f'))
            {
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < id.Length && char.IsLowSurrogate(id[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The id to store a message with <see cref="AIChatMessage.MessageId"/> set under.</summary>
    public static string ForMessageId(string messageId) =>
        IsStorable(messageId) ? messageId : "mid-" + Hash(messageId);

    /// <summary>
    /// The id of a message without <see cref="AIChatMessage.MessageId"/>: equal for the same message of the same turn
    /// (so the framework re-sending it, or a retried store, stores nothing new), different for an equal message of a
    /// later turn (a user who says "yes" twice keeps both).
    /// </summary>
    /// <param name="json">The message's JSON, without an id, as it is stored.</param>
    /// <param name="turn">The session's last sequence when the turn's history was provided.</param>
    /// <param name="occurrence">How many equal messages came before this one in the same turn.</param>
    public static string ForContent(string json, long turn, int occurrence) =>
        "h-" + Hash(string.Create(CultureInfo.InvariantCulture, $"{turn}\n{occurrence}\n{json}"));

    // 128 bits of SHA-256 in 32 hex characters: collisions are out of reach for any history length.
    private static string Hash(string text)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return Convert.ToHexString(digest[..16]);
    }
}

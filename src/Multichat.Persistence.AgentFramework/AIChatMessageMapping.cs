using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using StoredMessage = Multichat.Persistence.ChatMessage;

namespace Multichat.Persistence.AgentFramework;

/// <summary>
/// Maps a <see cref="Microsoft.Extensions.AI.ChatMessage"/> to a stored <see cref="Multichat.Persistence.ChatMessage"/>
/// and back, losslessly for everything the message serializes.
/// </summary>
/// <remarks>
/// <para>
/// The stored message's <see cref="StoredMessage.Content"/> is the message's JSON as
/// <see cref="AIJsonUtilities.DefaultOptions"/> (or the options given) write it, and its metadata carries
/// <see cref="FormatKey"/> = <see cref="FormatValue"/>, so reading gives back a message that re-serializes to the same
/// bytes: role (custom roles too), author name, message id, created time, every <see cref="AIContent"/> kind the
/// options know (custom ones registered with <see cref="AIJsonUtilities.AddAIContentType{TContent}(JsonSerializerOptions, string)"/>),
/// and <see cref="AIChatMessage.AdditionalProperties"/>.
/// </para>
/// <para>
/// What cannot survive, because it is not serialized: <see cref="AIChatMessage.RawRepresentation"/> and the raw
/// representation of each content, and <see cref="FunctionResultContent.Exception"/>. Values of
/// <see cref="AIChatMessage.AdditionalProperties"/> and of <see cref="FunctionCallContent.Arguments"/> come back as
/// <see cref="JsonElement"/> (equal JSON, not the original .NET type).
/// </para>
/// <para>
/// The participant model: <see cref="StoredMessage.Sender"/> is <see cref="AIChatMessage.AuthorName"/>, else the
/// given default sender, else the role; <see cref="StoredMessage.Recipient"/> is the string in
/// <see cref="AIChatMessage.AdditionalProperties"/> under <see cref="RecipientProperty"/>;
/// <see cref="StoredMessage.Timestamp"/> is <see cref="AIChatMessage.CreatedAt"/> (the store's clock when unset).
/// A stored message that another writer appended without this format (a person's plain text, say) reads as a
/// <see cref="ChatRole.User"/> message (<see cref="ChatRole.System"/> when its sender is <c>system</c>) whose author is
/// the sender, whose text is the content and whose id and created time are the stored ones.
/// </para>
/// </remarks>
public static class AIChatMessageMapping
{
    /// <summary>The metadata key that marks a stored message as a serialized Microsoft.Extensions.AI chat message.</summary>
    public const string FormatKey = "multichat.format";

    /// <summary>The value of <see cref="FormatKey"/>: version 1 of the format (the message's JSON in the content).</summary>
    public const string FormatValue = "meai.chat-message/1";

    /// <summary>The <see cref="AIChatMessage.AdditionalProperties"/> key whose string value is the message's recipient.</summary>
    public const string RecipientProperty = "multichat.recipient";

    private const string SystemSender = "system";

    private static readonly Dictionary<string, string> FormatMetadata = new(StringComparer.Ordinal) { [FormatKey] = FormatValue };

    /// <summary>Maps <paramref name="message"/> to the message to store in session <paramref name="sessionId"/>.</summary>
    /// <param name="message">The message; its <see cref="AIChatMessage.MessageId"/> is not used as the stored id (pass <paramref name="id"/>).</param>
    /// <param name="sessionId">The session to store it in.</param>
    /// <param name="id">The stored message's id (unique in the session; a second append with it stores nothing).</param>
    /// <param name="defaultSender">The sender when the message has no author name; <see langword="null"/> for its role.</param>
    /// <param name="serializerOptions">Options that know every content type in the message; <see cref="AIJsonUtilities.DefaultOptions"/> when <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException">A required argument is <see langword="null"/>.</exception>
    public static StoredMessage ToStoredMessage(
        AIChatMessage message, string sessionId, string id, string? defaultSender = null, JsonSerializerOptions? serializerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(id);
        return new StoredMessage
        {
            Id = id,
            SessionId = sessionId,
            Sender = SenderOf(message, defaultSender),
            Recipient = RecipientOf(message),
            Content = Serialize(message, serializerOptions),
            Timestamp = message.CreatedAt ?? default,
            Metadata = FormatMetadata,
        };
    }

    /// <summary>Reads a stored message as a Microsoft.Extensions.AI chat message.</summary>
    /// <param name="stored">A message read from the store.</param>
    /// <param name="serializerOptions">Options that know every content type stored; <see cref="AIJsonUtilities.DefaultOptions"/> when <see langword="null"/>.</param>
    /// <exception cref="JsonException">The message is marked as this format but its content is not a chat message.</exception>
    public static AIChatMessage ToAIChatMessage(StoredMessage stored, JsonSerializerOptions? serializerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (IsAIChatMessage(stored))
        {
            return (AIChatMessage?)JsonSerializer.Deserialize(stored.Content, TypeInfo(serializerOptions))
                ?? throw new JsonException($"Message '{stored.Id}' is marked '{FormatValue}' but its content is JSON null.");
        }

        var role = string.Equals(stored.Sender, SystemSender, StringComparison.Ordinal) ? ChatRole.System : ChatRole.User;
        var plain = new AIChatMessage(role, stored.Content)
        {
            AuthorName = stored.Sender,
            MessageId = stored.Id,
            CreatedAt = stored.Timestamp,
        };
        if (stored.Recipient is not null)
        {
            plain.AdditionalProperties = new AdditionalPropertiesDictionary { [RecipientProperty] = stored.Recipient };
        }

        return plain;
    }

    /// <summary>Whether a stored message holds a serialized chat message (<see cref="FormatKey"/> = <see cref="FormatValue"/>).</summary>
    public static bool IsAIChatMessage(StoredMessage stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return stored.Metadata.TryGetValue(FormatKey, out var format) && string.Equals(format, FormatValue, StringComparison.Ordinal);
    }

    /// <summary>The message's JSON as the options write it: what is stored, and what a content hash is taken over.</summary>
    internal static string Serialize(AIChatMessage message, JsonSerializerOptions? serializerOptions) =>
        JsonSerializer.Serialize(message, TypeInfo(serializerOptions));

    private static string SenderOf(AIChatMessage message, string? defaultSender) =>
        !string.IsNullOrEmpty(message.AuthorName) ? message.AuthorName : defaultSender ?? message.Role.Value;

    private static string? RecipientOf(AIChatMessage message)
    {
        if (message.AdditionalProperties is null || !message.AdditionalProperties.TryGetValue(RecipientProperty, out var value))
        {
            return null;
        }

        // A message read back holds the value as a JsonElement; one built in code holds a string.
        return value switch
        {
            string text => text,
            JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
            _ => throw new ArgumentException(
                $"AdditionalProperties['{RecipientProperty}'] must be a string (a participant id), not {value?.GetType().Name ?? "null"}.", nameof(message)),
        };
    }

    // Through JsonTypeInfo, not the generic overloads: no reflection, so trimmed and AOT-compiled apps keep working.
    private static JsonTypeInfo TypeInfo(JsonSerializerOptions? serializerOptions) =>
        (serializerOptions ?? AIJsonUtilities.DefaultOptions).GetTypeInfo(typeof(AIChatMessage));
}

namespace Multichat.Persistence.Internal;

/// <summary>The message records every store writes: one rule for a new message and one for an imported one.</summary>
internal static class MessageRecords
{
    /// <summary>A new message as stored: its sequence, the store clock when its timestamp was left at default (else UTC), an owned metadata copy.</summary>
    public static ChatMessage Stored(ChatMessage message, long sequence, DateTimeOffset now) => message with
    {
        Sequence = sequence,
        Timestamp = message.Timestamp == default ? now : message.Timestamp.ToUniversalTime(),
        Metadata = MetadataCopy.Of(message.Metadata),
    };

    /// <summary>An imported message as stored: sequence kept, UTC timestamp, an owned metadata copy.</summary>
    public static ChatMessage Imported(ChatMessage message) => message with
    {
        Timestamp = message.Timestamp.ToUniversalTime(),
        Metadata = MetadataCopy.Of(message.Metadata),
    };
}

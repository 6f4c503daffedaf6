namespace Multichat.Persistence.Protection;

/// <summary>
/// Where a protected value belongs: the field, the session, the message (for message fields) and the metadata key (for
/// metadata values). It is the envelope's associated data, so a ciphertext copied to another message, field, key or
/// session fails to decrypt. It holds only what export, import and restore into any store keep unchanged (ids and
/// keys, never sequences, timestamps or storage positions), so migrated envelopes decrypt without re-encryption.
/// </summary>
internal readonly record struct ValueLocation(ProtectedField Field, string SessionId, string? MessageId, string? MetadataKey)
{
    public static ValueLocation Content(string sessionId, string messageId) => new(ProtectedField.MessageContent, sessionId, messageId, null);

    public static ValueLocation MessageMetadata(string sessionId, string messageId, string key) => new(ProtectedField.MessageMetadata, sessionId, messageId, key);

    public static ValueLocation Title(string sessionId) => new(ProtectedField.SessionTitle, sessionId, null, null);

    public static ValueLocation SessionMetadata(string sessionId, string key) => new(ProtectedField.SessionMetadata, sessionId, null, key);

    /// <summary>The field as an exception message says it, never with the value.</summary>
    public string Describe() => Field switch
    {
        ProtectedField.MessageContent => $"the content of message '{MessageId}' in session '{SessionId}'",
        ProtectedField.MessageMetadata => $"metadata value '{MetadataKey}' of message '{MessageId}' in session '{SessionId}'",
        ProtectedField.SessionTitle => $"the title of session '{SessionId}'",
        _ => $"metadata value '{MetadataKey}' of session '{SessionId}'",
    };
}

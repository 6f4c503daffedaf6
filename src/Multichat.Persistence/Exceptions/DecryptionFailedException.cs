namespace Multichat.Persistence;

/// <summary>
/// A stored value could not be decrypted or decoded: its key is not in the key ring, the key is wrong, or the envelope
/// was changed or moved to another message, field or session. The message names the session, the message and the key
/// id; it never holds the key or any content. Nothing else of the store is affected.
/// </summary>
public sealed class DecryptionFailedException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public DecryptionFailedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DecryptionFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public DecryptionFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal DecryptionFailedException(string message, string sessionId, string? messageId, string? keyId)
        : base(message)
    {
        SessionId = sessionId;
        MessageId = messageId;
        KeyId = keyId;
    }

    /// <summary>The session the value belongs to.</summary>
    public string? SessionId { get; }

    /// <summary>The message the value belongs to; <see langword="null"/> for a session's title or metadata.</summary>
    public string? MessageId { get; }

    /// <summary>The id of the key the envelope names; <see langword="null"/> when the envelope names none or could not be read.</summary>
    public string? KeyId { get; }
}

namespace Multichat.Persistence;

/// <summary>One message of a <see cref="ChatSession"/>.</summary>
public sealed record ChatMessage
{
    /// <summary>The message's id, unique in its session: 1 to 256 characters, no control characters.
    /// Appending a message whose id is already stored returns the stored original instead of storing it again.</summary>
    public required string Id { get; init; }

    /// <summary>The id of the session the message belongs to.</summary>
    public required string SessionId { get; init; }

    /// <summary>Who sent the message (a participant id, or any other sender such as "system").</summary>
    public required string Sender { get; init; }

    /// <summary>The addressee, or <see langword="null"/> for a message to all participants.</summary>
    public string? Recipient { get; init; }

    /// <summary>The message text. At most <see cref="SessionPersistenceOptions.MaxContentLength"/> characters.</summary>
    public required string Content { get; init; }

    /// <summary>When the message was written: the caller's value, or the store clock's when left at <c>default</c>.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The position in the session, assigned by the store (1, 2, 3, … without gaps). Leave 0 on input.</summary>
    public long Sequence { get; init; }

    /// <summary>Free-form string metadata of the message.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata.Instance;
}

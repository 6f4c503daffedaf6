namespace Multichat.Persistence;

/// <summary>One page of a participant's inbox.</summary>
public sealed record InboxPage
{
    /// <summary>Creates a page.</summary>
    /// <param name="messages">The messages, oldest first.</param>
    /// <param name="continuationToken">The opaque token for the next page, or <see langword="null"/> at the end.</param>
    public InboxPage(IReadOnlyList<ChatMessage> messages, string? continuationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Messages = messages;
        ContinuationToken = continuationToken;
    }

    /// <summary>
    /// Messages addressed to the participant (its id as <see cref="ChatMessage.Recipient"/>, or no recipient: everyone)
    /// and sent by someone else, after its read cursor in each session, oldest first across sessions (by
    /// <see cref="ChatMessage.Timestamp"/>, then session id; in sequence order within a session).
    /// </summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>
    /// Pass as <see cref="InboxQuery.ContinuationToken"/> to read the next page; <see langword="null"/> when no further
    /// message was unread when this page was read. Opaque: its format may change between versions.
    /// </summary>
    public string? ContinuationToken { get; }
}

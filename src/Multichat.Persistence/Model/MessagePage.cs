namespace Multichat.Persistence;

/// <summary>One page of messages and the query for the page after it.</summary>
public sealed record MessagePage
{
    /// <summary>Creates a page.</summary>
    /// <param name="messages">The messages, in the order of the query.</param>
    /// <param name="next">The query for the next page in the same direction, or <see langword="null"/> at the end.</param>
    public MessagePage(IReadOnlyList<ChatMessage> messages, MessageQuery? next)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Messages = messages;
        Next = next;
    }

    /// <summary>The messages, in the order the query asked for.</summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>
    /// The query that continues where this page stopped (same order, limit and far bound), or <see langword="null"/>
    /// when no further message matched when this page was read.
    /// </summary>
    public MessageQuery? Next { get; }

    /// <summary>Whether more messages matched the query than this page holds.</summary>
    public bool HasMore => Next is not null;
}

namespace Multichat.Persistence;

/// <summary>
/// Thrown by <see cref="SessionPersistence.WatchMessagesAsync"/> when messages after the watcher's cursor can no longer
/// be delivered (they were trimmed away, or the session began a new life): the feed never skips silently. Every
/// message before this was delivered; start a new watch after <see cref="ResumeAfterSequence"/> to go on.
/// </summary>
public sealed class MessageFeedGapException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public MessageFeedGapException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public MessageFeedGapException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public MessageFeedGapException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The session watched.</summary>
    public string? SessionId { get; init; }

    /// <summary>The sequence of the last message the watcher received (or the cursor it started after).</summary>
    public long AfterSequence { get; init; }

    /// <summary>Where a new watch continues with nothing further missing: after the missing messages, or 0 for a
    /// session's new life.</summary>
    public long ResumeAfterSequence { get; init; }

    /// <summary>Why messages are missing.</summary>
    public FeedGapReason Reason { get; init; }

    internal static MessageFeedGapException Removed(string sessionId, long after, long firstAvailable) =>
        new($"Session '{sessionId}': messages {after + 1} to {firstAvailable - 1} were removed before the watcher read them. " +
            $"Watch again after sequence {firstAvailable - 1} to go on.")
        {
            SessionId = sessionId,
            AfterSequence = after,
            ResumeAfterSequence = firstAvailable - 1,
            Reason = FeedGapReason.MessagesRemoved,
        };

    internal static MessageFeedGapException Replaced(string sessionId, long after) =>
        new($"Session '{sessionId}' was deleted and created again, or replaced, while being watched after sequence {after}; " +
            "its sequences start over. Watch again after sequence 0 to read its new life.")
        {
            SessionId = sessionId,
            AfterSequence = after,
            ResumeAfterSequence = 0,
            Reason = FeedGapReason.SessionReplaced,
        };
}

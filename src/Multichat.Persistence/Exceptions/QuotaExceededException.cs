namespace Multichat.Persistence;

/// <summary>A configured limit (such as MaxSessions) does not allow the operation.</summary>
public sealed class QuotaExceededException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public QuotaExceededException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public QuotaExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public QuotaExceededException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The exception for a create refused because the store holds <paramref name="maxSessions"/> sessions.</summary>
    internal static QuotaExceededException ForSessions(int maxSessions) => new(
        $"The store holds {maxSessions} sessions, the MaxSessions limit. Delete sessions, run CleanupAsync, raise MaxSessions, or set SessionLimitPolicy to EvictLeastRecentlyActive.");

    /// <summary>The exception for an append refused because it would take a session past <paramref name="maxMessages"/> messages.</summary>
    internal static QuotaExceededException ForMessages(string sessionId, long storedMessages, int newMessages, int maxMessages) => new(
        $"Session '{sessionId}' holds {storedMessages} messages; {newMessages} more would pass the MaxMessagesPerSession limit of {maxMessages} " +
        "(MessageLimitPolicy Reject). Nothing was stored. Trim or delete messages, raise MaxMessagesPerSession, or use MessageLimitPolicy TrimOldest.");
}

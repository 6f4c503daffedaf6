namespace Multichat.Persistence;

/// <summary>What an append does when it would take a session past <see cref="SessionPersistenceOptions.MaxMessagesPerSession"/> messages.</summary>
public enum MessageLimitPolicy
{
    /// <summary>The append stores its messages and removes the oldest beyond the limit in the same atomic operation,
    /// without renumbering. The default.</summary>
    TrimOldest = 0,

    /// <summary>The append stores nothing and throws <see cref="QuotaExceededException"/>; stored messages are never
    /// removed to make room. A retry of messages already stored still returns the stored originals.</summary>
    Reject = 1,
}

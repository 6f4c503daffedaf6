namespace Multichat.Persistence;

/// <summary>What a create does when the store already holds <see cref="SessionPersistenceOptions.MaxSessions"/> sessions.</summary>
public enum SessionLimitPolicy
{
    /// <summary>The create stores nothing and throws <see cref="QuotaExceededException"/>. The default.</summary>
    Reject = 0,

    /// <summary>The create deletes the least recently active session (oldest <see cref="ChatSession.UpdatedAt"/>) with
    /// its messages, in the same atomic step where the store can, and then stores the new one. A log event (id 607)
    /// and the counter <c>multichat.persistence.sessions.evicted</c> say which session went.</summary>
    EvictLeastRecentlyActive = 1,
}

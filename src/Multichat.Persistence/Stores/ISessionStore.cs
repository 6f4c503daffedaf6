namespace Multichat.Persistence;

/// <summary>
/// The provider contract every store (Memory, Json, Sqlite, Redis) implements. Applications use
/// <see cref="SessionPersistence"/>, which validates input, applies limits and records metrics before calling a store;
/// a store may assume its arguments passed that validation.
/// </summary>
/// <remarks>
/// Every implementation honours the guarantees of the design (gapless per-session sequences under concurrency,
/// atomic and idempotent batches, optimistic concurrency on the session record, typed exceptions) and is checked
/// by the shared conformance suite. Timestamps come back in UTC.
/// A call that fails with <see cref="StoreUnavailableException"/> or is canceled while a networked store's request is
/// on the wire may still have taken effect on the server; an append retried with the same message ids is safe.
/// </remarks>
public interface ISessionStore : IAsyncDisposable
{
    /// <summary>A short, stable, lower-case name of the store kind ("memory", "json", "sqlite", "redis"), used as a metric tag.</summary>
    string Name { get; }

    /// <summary>
    /// Stores a new session. The store sets <see cref="ChatSession.CreatedAt"/> and <see cref="ChatSession.UpdatedAt"/>
    /// to its clock, <see cref="ChatSession.Version"/> to 1 and the counters to 0, and returns the stored record.
    /// </summary>
    /// <param name="session">The new session; only its id, participants, title and metadata are used.</param>
    /// <param name="limit">The most sessions the store may hold and what a create beyond does: under
    /// <see cref="SessionLimitPolicy.Reject"/> it stores nothing and throws <see cref="QuotaExceededException"/>; under
    /// <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/> it first deletes the session with the oldest
    /// <see cref="ChatSession.UpdatedAt"/> (the one <see cref="ListSessionsAsync"/> lists last) and its messages. The
    /// check, any eviction and the insert are one atomic step where the backend allows it, so concurrent creators
    /// (threads, processes, machines) never pass the limit together. An existing id fails before anything is evicted.
    /// <see cref="SessionLimit.None"/> for no limit.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="SessionAlreadyExistsException">A session with that id exists.</exception>
    /// <exception cref="QuotaExceededException">The store holds <see cref="SessionLimit.MaxSessions"/> sessions and the policy is
    /// <see cref="SessionLimitPolicy.Reject"/>.</exception>
    Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default);

    /// <summary>Reads a session, or <see langword="null"/> when there is none with that id.</summary>
    Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the participants, title and metadata of a session when <see cref="ChatSession.Version"/> equals the
    /// stored version; the stored version then grows by one and <see cref="ChatSession.UpdatedAt"/> becomes now.
    /// Other fields of <paramref name="session"/> are ignored.
    /// </summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="ConcurrencyConflictException">The stored version differs.</exception>
    Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default);

    /// <summary>Deletes a session and all its messages; <see langword="false"/> when there was no such session.</summary>
    Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Lists sessions newest activity first, filtered and paged as <paramref name="query"/> says.</summary>
    /// <exception cref="ArgumentException">The continuation token is not one this store issued.</exception>
    Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default);

    /// <summary>Every session id in the store, in no particular order; used for export and maintenance.</summary>
    IAsyncEnumerable<string> ListSessionIdsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends a batch atomically: every message whose id is not yet stored in the session gets the next sequence
    /// (contiguous, in batch order) and is stored, or none is. Messages whose id is stored already (or repeated
    /// earlier in the batch) are not stored again; the stored original takes their place in the result.
    /// A <see cref="ChatMessage.Timestamp"/> left at <c>default</c> becomes the store clock's now.
    /// Under a <paramref name="limit"/> with <see cref="MessageLimitPolicy.TrimOldest"/>, the oldest messages beyond
    /// its count are removed in the same operation; with <see cref="MessageLimitPolicy.Reject"/>, a batch whose new
    /// messages would take the session past the count stores nothing and throws <see cref="QuotaExceededException"/>
    /// (a batch of ids all stored already returns the originals, as ever).
    /// </summary>
    /// <returns>The stored messages, one per input message, in input order.</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="QuotaExceededException">The limit rejects the batch.</exception>
    Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId,
        IReadOnlyList<ChatMessage> messages,
        MessageLimit limit,
        CancellationToken cancellationToken = default);

    /// <summary>Reads one page of a session's messages; costs the same however long the history is.</summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default);

    /// <summary>Removes the oldest messages so that at most <paramref name="keepLatest"/> remain; sequences are not renumbered.</summary>
    /// <returns>How many messages were removed; 0 when the session does not exist.</returns>
    Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a session record verbatim (timestamps, version and <see cref="ChatSession.LastSequence"/> kept, message
    /// count starting at 0), for import and restore. Messages follow with <see cref="ImportMessagesAsync"/>.
    /// </summary>
    /// <param name="session">The record to write.</param>
    /// <param name="replaceExisting">Delete an existing session of that id (and its messages) first; otherwise such a
    /// session gives <see cref="SessionAlreadyExistsException"/>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes messages verbatim, keeping their sequences and timestamps, after a session was imported. Sequences are
    /// ascending, greater than any stored in the session, and at most the session's <see cref="ChatSession.LastSequence"/>.
    /// </summary>
    Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>Checks that the backend answers and its data is readable.</summary>
    Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default);

    /// <summary>Counts sessions and messages.</summary>
    Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default);
}

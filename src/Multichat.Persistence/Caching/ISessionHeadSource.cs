namespace Multichat.Persistence.Caching;

/// <summary>
/// A store's cheap answer to "what is this session's head now?", the per-read check that keeps the read cache coherent
/// across instances, processes and machines: a cached session or message window is served only while the head it was
/// read at is still the store's head. Every store implements it with its own cheapest read (a record in memory, the
/// session's validated state, one indexed row, one small hash read from the primary).
/// </summary>
internal interface ISessionHeadSource
{
    /// <summary>The session's head as the store holds it now (never older than a write that has completed).</summary>
    /// <returns>The head, or <see langword="null"/> when no such session is stored.</returns>
    Task<SessionHead?> GetHeadAsync(string sessionId, CancellationToken cancellationToken);
}

using Multichat.Persistence.Backup;

namespace Multichat.Persistence.Pipeline;

/// <summary>
/// A pipeline layer: forwards every member of <see cref="ISessionStore"/> to the next store in the chain, so a layer
/// overrides only what its feature touches (the model is <c>System.Net.Http.DelegatingHandler</c>). A layer owns its
/// inner store and disposes it; synchronously too, for containers that dispose that way.
/// </summary>
internal abstract class DelegatingSessionStore(ISessionStore inner) : ISessionStore, ISessionReplacer, IDisposable
{
    /// <summary>The next store in the chain: another layer, or the store itself.</summary>
    public ISessionStore Inner { get; } = inner;

    public virtual string Name => Inner.Name;

    public virtual Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default) =>
        Inner.CreateSessionAsync(session, limit, cancellationToken);

    public virtual Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        Inner.GetSessionAsync(sessionId, cancellationToken);

    public virtual Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        Inner.UpdateSessionAsync(session, cancellationToken);

    public virtual Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        Inner.DeleteSessionAsync(sessionId, cancellationToken);

    public virtual Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default) =>
        Inner.ListSessionsAsync(query, cancellationToken);

    public virtual IAsyncEnumerable<string> ListSessionIdsAsync(CancellationToken cancellationToken = default) =>
        Inner.ListSessionIdsAsync(cancellationToken);

    public virtual Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default) =>
        Inner.AppendMessagesAsync(sessionId, messages, limit, cancellationToken);

    public virtual Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        Inner.GetMessagesAsync(sessionId, query, cancellationToken);

    public virtual Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        Inner.TrimMessagesAsync(sessionId, keepLatest, cancellationToken);

    public virtual Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default) =>
        Inner.ImportSessionAsync(session, replaceExisting, cancellationToken);

    public virtual Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        Inner.ImportMessagesAsync(sessionId, messages, cancellationToken);

    public virtual Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken) =>
        SessionReplacement.ReplaceAsync(Inner, session, batches, expected, cancellationToken);

    public virtual Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default) =>
        Inner.CheckHealthAsync(cancellationToken);

    public virtual Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        Inner.GetStatisticsAsync(cancellationToken);

    public virtual ValueTask DisposeAsync() => Inner.DisposeAsync();

    public void Dispose()
    {
        DisposeAsync().AsTask().GetAwaiter().GetResult();
        GC.SuppressFinalize(this);
    }
}

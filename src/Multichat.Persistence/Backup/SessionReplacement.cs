namespace Multichat.Persistence.Backup;

/// <summary>Replacing a session through whatever the store offers.</summary>
internal static class SessionReplacement
{
    public static Task ReplaceAsync(
        ISessionStore store, ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken) =>
        store is ISessionReplacer replacer
            ? replacer.ReplaceSessionAsync(session, batches, cancellationToken)
            : NonAtomicAsync(store, session, batches, cancellationToken);

    /// <summary>
    /// For a store of an application's own that has no atomic replacement: the record first, then the messages. A
    /// failure in between leaves the session with part of its messages; the restore reports it and can be run again.
    /// </summary>
    public static async Task NonAtomicAsync(
        ISessionStore store, ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken)
    {
        await store.ImportSessionAsync(session, replaceExisting: true, cancellationToken).ConfigureAwait(false);
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await store.ImportMessagesAsync(session.SessionId, batch, cancellationToken).ConfigureAwait(false);
        }
    }
}

namespace Multichat.Persistence.Backup;

/// <summary>Replacing a session through whatever the store offers.</summary>
internal static class SessionReplacement
{
    /// <summary>An unguarded replacement, as a restore makes it.</summary>
    public static Task ReplaceAsync(
        ISessionStore store, ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken) =>
        ReplaceAsync(store, session, batches, expected: null, cancellationToken);

    /// <summary>A replacement, guarded by <paramref name="expected"/> when set (see <see cref="ISessionReplacer"/>).</summary>
    public static Task ReplaceAsync(
        ISessionStore store,
        ChatSession session,
        IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches,
        ReplacementExpectation? expected,
        CancellationToken cancellationToken) =>
        store is ISessionReplacer replacer
            ? replacer.ReplaceSessionAsync(session, batches, expected, cancellationToken)
            : NonAtomicAsync(store, session, batches, expected, cancellationToken);

    /// <summary>
    /// For a store of an application's own that has no atomic replacement: the record first, then the messages. A
    /// failure in between leaves the session with part of its messages; the restore reports it and can be run again.
    /// </summary>
    /// <remarks>
    /// <paramref name="expected"/> can only be checked before the record is written, by a read: a write that lands
    /// between that read and the end of the messages is lost. A store that must never lose one implements
    /// <see cref="ISessionReplacer"/>.
    /// </remarks>
    public static async Task NonAtomicAsync(
        ISessionStore store,
        ChatSession session,
        IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches,
        ReplacementExpectation? expected,
        CancellationToken cancellationToken)
    {
        if (expected is { } expectation)
        {
            var stored = await store.GetSessionAsync(session.SessionId, cancellationToken).ConfigureAwait(false);
            if (!expectation.IsMetBy(stored))
            {
                throw expectation.Conflict(session.SessionId, stored);
            }
        }

        await store.ImportSessionAsync(session, replaceExisting: true, cancellationToken).ConfigureAwait(false);
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await store.ImportMessagesAsync(session.SessionId, batch, cancellationToken).ConfigureAwait(false);
        }
    }
}

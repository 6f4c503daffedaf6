namespace Multichat.Persistence.Backup;

/// <summary>
/// A store that can replace one whole session (record and messages) in one atomic step, so a restore that fails or is
/// killed half-way leaves each session either as it was or as in the archive, never half old and half new, and a
/// re-encryption never loses a write that lands while it rewrites a session. The pipeline's layers forward it; a store
/// without it gets <see cref="SessionReplacement.NonAtomicAsync"/>.
/// </summary>
internal interface ISessionReplacer
{
    /// <summary>
    /// Makes <paramref name="session"/> (with its stored sequences, timestamps and version) and exactly the messages of
    /// <paramref name="batches"/> (ascending sequences) the session of that id, creating it if missing. Readers see the
    /// old session until the new one is complete.
    /// </summary>
    /// <param name="session">The new record.</param>
    /// <param name="batches">Its messages, ascending; read once, one batch in memory at a time.</param>
    /// <param name="expected">When set, the replacement commits only if the stored session still exists and meets it,
    /// checked inside the store's atomic swap; otherwise it leaves the stored session untouched, discards what it
    /// staged and throws <see cref="ConcurrencyConflictException"/>. A restore passes none.</param>
    /// <param name="cancellationToken">Cancels the replacement; the stored session stays as it was.</param>
    /// <remarks>Read cursors: a guarded replacement (<paramref name="expected"/> set: re-encryption, the same life going
    /// on) keeps the session's marked cursors in the same atomic step; an unguarded one (restore) leaves the new state
    /// without any, and the caller marks the archive's.</remarks>
    Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken);

    /// <summary>An unguarded replacement, as a restore makes it.</summary>
    Task ReplaceSessionAsync(ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken) =>
        ReplaceSessionAsync(session, batches, expected: null, cancellationToken);
}

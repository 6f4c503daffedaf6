namespace Multichat.Persistence.Backup;

/// <summary>
/// A store that can replace one whole session (record and messages) in one atomic step, so a restore that fails or is
/// killed half-way leaves each session either as it was or as in the archive, never half old and half new. The
/// pipeline's layers forward it; a store without it gets <see cref="SessionReplacement.NonAtomicAsync"/>.
/// </summary>
internal interface ISessionReplacer
{
    /// <summary>
    /// Makes <paramref name="session"/> (with its stored sequences, timestamps and version) and exactly the messages of
    /// <paramref name="batches"/> (ascending sequences) the session of that id, creating it if missing. Readers see the
    /// old session until the new one is complete.
    /// </summary>
    Task ReplaceSessionAsync(ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken);
}

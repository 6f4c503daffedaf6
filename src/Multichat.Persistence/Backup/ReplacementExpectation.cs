namespace Multichat.Persistence.Backup;

/// <summary>
/// What a guarded replacement (<see cref="ISessionReplacer.ReplaceSessionAsync(ChatSession, IAsyncEnumerable{IReadOnlyList{ChatMessage}}, ReplacementExpectation?, CancellationToken)"/>) expects the stored session still to be
/// when it swaps the new one in: the session exists with this <see cref="ChatSession.Version"/>,
/// <see cref="ChatSession.LastSequence"/>, <see cref="ChatSession.MessageCount"/> and <see cref="ChatSession.CreatedAt"/>.
/// Together they change with every write a replacement could lose: an update moves the version, an append the last
/// sequence, a trim the count, and a delete followed by a create of the same id the creation time.
/// </summary>
/// <param name="Version">The session record's version as read.</param>
/// <param name="LastSequence">The highest sequence assigned, as read.</param>
/// <param name="MessageCount">The number of messages stored, as read.</param>
/// <param name="CreatedAt">When the session was created, as read.</param>
internal readonly record struct ReplacementExpectation(long Version, long LastSequence, long MessageCount, DateTimeOffset CreatedAt)
{
    /// <summary>The expectation that <paramref name="session"/>, as read from the store, is still what is stored.</summary>
    public static ReplacementExpectation Of(ChatSession session) =>
        new(session.Version, session.LastSequence, session.MessageCount, session.CreatedAt);

    /// <summary>Whether <paramref name="stored"/> (<see langword="null"/>: missing) is still the session this expects.</summary>
    public bool IsMetBy(ChatSession? stored) =>
        stored is not null && IsMetBy(stored.Version, stored.LastSequence, stored.MessageCount, stored.CreatedAt.UtcTicks);

    /// <summary>Whether a stored session of these values is still the session this expects.</summary>
    public bool IsMetBy(long version, long lastSequence, long messageCount, long createdTicks) =>
        version == Version && lastSequence == LastSequence && messageCount == MessageCount && createdTicks == CreatedAt.UtcTicks;

    /// <summary>The error of a replacement that found the stored session changed (or gone) and left it untouched.</summary>
    public ConcurrencyConflictException Conflict(string sessionId, ChatSession? stored) => Conflict(sessionId, stored?.Version);

    /// <summary>The error of a replacement that found the stored session changed (or gone, <paramref name="storedVersion"/>
    /// <see langword="null"/>) and left it untouched.</summary>
    public ConcurrencyConflictException Conflict(string sessionId, long? storedVersion) => new(
        storedVersion is null
            ? $"Session '{sessionId}' was deleted while it was being replaced; nothing was written. Read it again and retry."
            : $"Session '{sessionId}' changed while it was being replaced (expected version {Version}, last sequence {LastSequence}, "
              + $"{MessageCount} messages); the stored session was left as it is. Read it again and retry.")
    {
        SessionId = sessionId,
        ExpectedVersion = Version,
        ActualVersion = storedVersion ?? 0,
    };
}

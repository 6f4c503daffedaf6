namespace Multichat.Persistence;

/// <summary>
/// A conversation between participants (AI agents or people) and the bookkeeping the store keeps for it.
/// </summary>
/// <remarks>
/// Records compare collections by reference; compare <see cref="Participants"/> and <see cref="Metadata"/> by content
/// when that matters to you.
/// </remarks>
public sealed record ChatSession
{
    /// <summary>The session's id: 1 to 256 characters, no control characters. Unique in the store (case-sensitive).</summary>
    public required string SessionId { get; init; }

    /// <summary>The participants, in the order given when the session was created or updated; distinct (ordinal).</summary>
    public IReadOnlyList<string> Participants { get; init; } = [];

    /// <summary>An optional human-readable title.</summary>
    public string? Title { get; init; }

    /// <summary>Free-form string metadata of the session.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata.Instance;

    /// <summary>When the session was created (store clock).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the session last changed: an update of the session record or an appended message (store clock).</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>How many messages the session holds now (after any trimming).</summary>
    public long MessageCount { get; init; }

    /// <summary>The highest sequence ever assigned in this session; 0 before the first message. Never decreases.</summary>
    public long LastSequence { get; init; }

    /// <summary>
    /// Concurrency token of the session record: starts at 1 and grows with every update of the record.
    /// Appending messages does not change it. <see cref="SessionPersistence.UpdateSessionAsync"/> fails with
    /// <see cref="ConcurrencyConflictException"/> when the version passed in is no longer the stored one.
    /// </summary>
    public long Version { get; init; }
}

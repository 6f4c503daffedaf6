namespace Multichat.Persistence;

/// <summary>One page of sessions, newest activity first.</summary>
public sealed record SessionPage
{
    /// <summary>Creates a page.</summary>
    /// <param name="sessions">The sessions, newest activity first.</param>
    /// <param name="continuationToken">The opaque token for the next page, or <see langword="null"/> at the end.</param>
    public SessionPage(IReadOnlyList<ChatSession> sessions, string? continuationToken)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        Sessions = sessions;
        ContinuationToken = continuationToken;
    }

    /// <summary>The sessions, newest activity first (ties broken by session id, descending ordinal).</summary>
    public IReadOnlyList<ChatSession> Sessions { get; }

    /// <summary>
    /// Pass as <see cref="SessionQuery.ContinuationToken"/> (with the same filters) to read the next page;
    /// <see langword="null"/> when there is none. Opaque: its format may change between versions.
    /// </summary>
    public string? ContinuationToken { get; }

    /// <summary>Each listed session's read state for the query's participant, by session id, when the query asked for
    /// it (<see cref="SessionQuery.IncludeReadState"/>); otherwise <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, ReadState>? ReadStates { get; init; }
}

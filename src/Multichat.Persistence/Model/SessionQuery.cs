namespace Multichat.Persistence;

/// <summary>A page request over sessions, newest activity (<see cref="ChatSession.UpdatedAt"/>) first.</summary>
public sealed record SessionQuery
{
    /// <summary>The largest page size a query may ask for.</summary>
    public const int MaxLimit = 1_000;

    /// <summary>Only sessions this participant takes part in (ordinal comparison). <see langword="null"/>: all.</summary>
    public string? Participant { get; init; }

    /// <summary>Only sessions updated strictly after this moment.</summary>
    public DateTimeOffset? UpdatedAfter { get; init; }

    /// <summary>Only sessions updated strictly before this moment.</summary>
    public DateTimeOffset? UpdatedBefore { get; init; }

    /// <summary>
    /// Whether the page also carries each session's <see cref="ReadState"/> for <see cref="Participant"/> (which must
    /// be set) in <see cref="SessionPage.ReadStates"/>. Default <see langword="false"/>; each one costs a read of the
    /// session's unread messages.
    /// </summary>
    public bool IncludeReadState { get; init; }

    /// <summary>How many sessions at most, 1 to <see cref="MaxLimit"/>; default 50.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="SessionPage.ContinuationToken"/> of the previous page; <see langword="null"/> for the first.</summary>
    public string? ContinuationToken { get; init; }
}

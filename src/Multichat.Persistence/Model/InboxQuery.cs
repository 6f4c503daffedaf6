namespace Multichat.Persistence;

/// <summary>A page request over a participant's inbox: the unread messages addressed to it across its sessions.</summary>
public sealed record InboxQuery
{
    /// <summary>The largest page size a query may ask for.</summary>
    public const int MaxLimit = 1_000;

    /// <summary>How many messages at most, 1 to <see cref="MaxLimit"/>; default 50.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="InboxPage.ContinuationToken"/> of the previous page; <see langword="null"/> for the first.</summary>
    public string? ContinuationToken { get; init; }
}

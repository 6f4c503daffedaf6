namespace Multichat.Persistence;

/// <summary>A page request over one session's messages, by sequence.</summary>
public sealed record MessageQuery
{
    /// <summary>The largest page size a query may ask for.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>Only messages with a sequence greater than this (exclusive). <see langword="null"/>: no lower bound.</summary>
    public long? AfterSequence { get; init; }

    /// <summary>Only messages with a sequence less than this (exclusive). <see langword="null"/>: no upper bound.</summary>
    public long? BeforeSequence { get; init; }

    /// <summary>How many messages at most, 1 to <see cref="MaxLimit"/>; default 50.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>
    /// <see cref="MessageOrder.OldestFirst"/> (default) starts at the lower bound; <see cref="MessageOrder.NewestFirst"/>
    /// starts at the upper bound, or at the latest message when there is none. The page lists messages in this order.
    /// </summary>
    public MessageOrder Order { get; init; } = MessageOrder.OldestFirst;
}

namespace Multichat.Persistence;

/// <summary>
/// The message limit an append runs under: at most <see cref="MaxMessages"/> messages in the session, and what happens
/// to an append beyond it. <c>default</c> is <see cref="None"/>. The facade and the pipeline build it from
/// <see cref="SessionPersistenceOptions.MaxMessagesPerSession"/> and <see cref="SessionPersistenceOptions.MessageLimitPolicy"/>;
/// a store honours it in the same atomic operation as the append.
/// </summary>
public readonly record struct MessageLimit
{
    /// <summary>Creates a limit.</summary>
    /// <param name="maxMessages">The most messages a session may hold; 0 for no limit.</param>
    /// <param name="policy">What an append beyond the limit does.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxMessages"/> is negative or
    /// <paramref name="policy"/> is not a defined value.</exception>
    public MessageLimit(int maxMessages, MessageLimitPolicy policy)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessages);
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "Use MessageLimitPolicy.TrimOldest or MessageLimitPolicy.Reject.");
        }

        MaxMessages = maxMessages;
        Policy = policy;
    }

    /// <summary>No limit.</summary>
    public static MessageLimit None => default;

    /// <summary>The most messages a session may hold; 0 for no limit.</summary>
    public int MaxMessages { get; }

    /// <summary>What an append beyond <see cref="MaxMessages"/> does.</summary>
    public MessageLimitPolicy Policy { get; }

    /// <summary>Whether there is a limit at all.</summary>
    public bool IsLimited => MaxMessages > 0;

    /// <summary>Whether an append beyond the limit trims the oldest messages (a limit that is set, with <see cref="MessageLimitPolicy.TrimOldest"/>).</summary>
    internal bool Trims => IsLimited && Policy == MessageLimitPolicy.TrimOldest;

    /// <summary>Whether an append beyond the limit is refused (a limit that is set, with <see cref="MessageLimitPolicy.Reject"/>).</summary>
    internal bool Rejects => IsLimited && Policy == MessageLimitPolicy.Reject;

    /// <summary>At most <paramref name="maxMessages"/> messages; an append beyond removes the oldest.</summary>
    public static MessageLimit TrimOldest(int maxMessages) => new(maxMessages, MessageLimitPolicy.TrimOldest);

    /// <summary>At most <paramref name="maxMessages"/> messages; an append beyond fails with <see cref="QuotaExceededException"/>.</summary>
    public static MessageLimit Reject(int maxMessages) => new(maxMessages, MessageLimitPolicy.Reject);

    /// <summary>Whether storing <paramref name="newMessages"/> more messages in a session that holds
    /// <paramref name="storedMessages"/> is refused under this limit.</summary>
    internal bool Refuses(long storedMessages, int newMessages) => Rejects && newMessages > 0 && storedMessages + newMessages > MaxMessages;

    /// <summary>The stricter of two limits (the smaller positive maximum, with its policy; on a tie, <paramref name="other"/>'s).</summary>
    internal MessageLimit Tighter(MessageLimit other) =>
        !IsLimited ? other : !other.IsLimited ? this : other.MaxMessages <= MaxMessages ? other : this;

    /// <inheritdoc/>
    public override string ToString() => IsLimited ? $"{Policy} beyond {MaxMessages} messages" : "no message limit";
}

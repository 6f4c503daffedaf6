namespace Multichat.Persistence;

/// <summary>
/// The session limit a create runs under: at most <see cref="MaxSessions"/> sessions in the store, and what happens to
/// a create beyond it. <c>default</c> is <see cref="None"/>. The facade and the pipeline build it from
/// <see cref="SessionPersistenceOptions.MaxSessions"/> and <see cref="SessionPersistenceOptions.SessionLimitPolicy"/>;
/// a store honours it in one atomic step with the insert, so concurrent creators never pass it together.
/// </summary>
public readonly record struct SessionLimit
{
    /// <summary>Creates a limit.</summary>
    /// <param name="maxSessions">The most sessions the store may hold; 0 for no limit.</param>
    /// <param name="policy">What a create beyond the limit does.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSessions"/> is negative or
    /// <paramref name="policy"/> is not a defined value.</exception>
    public SessionLimit(int maxSessions, SessionLimitPolicy policy)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSessions);
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "Use SessionLimitPolicy.Reject or SessionLimitPolicy.EvictLeastRecentlyActive.");
        }

        MaxSessions = maxSessions;
        Policy = policy;
    }

    /// <summary>No limit.</summary>
    public static SessionLimit None => default;

    /// <summary>The most sessions the store may hold; 0 for no limit.</summary>
    public int MaxSessions { get; }

    /// <summary>What a create beyond <see cref="MaxSessions"/> does.</summary>
    public SessionLimitPolicy Policy { get; }

    /// <summary>Whether there is a limit at all.</summary>
    public bool IsLimited => MaxSessions > 0;

    /// <summary>Whether a create at the limit evicts the least recently active session instead of failing.</summary>
    internal bool Evicts => IsLimited && Policy == SessionLimitPolicy.EvictLeastRecentlyActive;

    /// <summary>At most <paramref name="maxSessions"/> sessions; a create beyond fails with <see cref="QuotaExceededException"/>.</summary>
    public static SessionLimit Reject(int maxSessions) => new(maxSessions, SessionLimitPolicy.Reject);

    /// <summary>At most <paramref name="maxSessions"/> sessions; a create beyond evicts the least recently active.</summary>
    public static SessionLimit EvictLeastRecentlyActive(int maxSessions) => new(maxSessions, SessionLimitPolicy.EvictLeastRecentlyActive);

    /// <summary>The stricter of two limits (the smaller positive maximum, with its policy; on a tie, <paramref name="other"/>'s).</summary>
    internal SessionLimit Tighter(SessionLimit other) =>
        !IsLimited ? other : !other.IsLimited ? this : other.MaxSessions <= MaxSessions ? other : this;

    /// <inheritdoc/>
    public override string ToString() => IsLimited ? $"{Policy} beyond {MaxSessions} sessions" : "no session limit";
}

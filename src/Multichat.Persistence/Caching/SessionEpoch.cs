namespace Multichat.Persistence.Caching;

/// <summary>New values for <see cref="SessionHead.Epoch"/>.</summary>
internal static class SessionEpoch
{
    /// <summary>A random non-zero epoch. Random rather than counted, so processes and machines sharing a store need no
    /// shared counter (a Redis Cluster script could not reach one in another slot); two lives of one session id meet
    /// the same epoch with odds of 1 in 2^63.</summary>
    public static long New() => Random.Shared.NextInt64(1, long.MaxValue);
}

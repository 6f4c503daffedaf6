using System.Diagnostics;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// The end of one call's wait for a lock, fixed when the call starts: opening, the in-process gates and the
/// <c>BEGIN IMMEDIATE</c> retries all wait within it, so queued callers never wait one busy timeout each.
/// </summary>
internal readonly struct SqliteDeadline
{
    private readonly long _started;
    private readonly TimeSpan _timeout;

    private SqliteDeadline(long started, TimeSpan timeout)
    {
        _started = started;
        _timeout = timeout;
    }

    /// <summary>Whether the wait has no bound (<see cref="Timeout.InfiniteTimeSpan"/>).</summary>
    public bool IsInfinite => _timeout == Timeout.InfiniteTimeSpan;

    /// <summary>Whether the call has waited its whole timeout.</summary>
    public bool IsExpired => !IsInfinite && Stopwatch.GetElapsedTime(_started) >= _timeout;

    /// <summary>What is left of the timeout (zero once expired), or <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (IsInfinite)
            {
                return Timeout.InfiniteTimeSpan;
            }

            var left = _timeout - Stopwatch.GetElapsedTime(_started);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>Starts the clock of a call now.</summary>
    public static SqliteDeadline Start(TimeSpan timeout) => new(Stopwatch.GetTimestamp(), timeout);

    /// <summary><paramref name="delay"/>, shortened so a back-off never sleeps past the deadline.</summary>
    public TimeSpan Cap(TimeSpan delay)
    {
        var left = Remaining;
        return left == Timeout.InfiniteTimeSpan || delay < left ? delay : left;
    }
}

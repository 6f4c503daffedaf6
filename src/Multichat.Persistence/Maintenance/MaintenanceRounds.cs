namespace Multichat.Persistence.Maintenance;

/// <summary>
/// Round arithmetic: round <c>n</c> of an interval starts at <c>n × interval</c> after the Unix epoch (UTC), so every
/// instance, on any machine, names the same rounds without talking to the others.
/// </summary>
internal static class MaintenanceRounds
{
    /// <summary>The round in progress at <paramref name="at"/>.</summary>
    public static long At(DateTimeOffset at, TimeSpan interval) => (at - DateTimeOffset.UnixEpoch).Ticks / interval.Ticks;

    /// <summary>When <paramref name="round"/> starts.</summary>
    public static DateTimeOffset Start(long round, TimeSpan interval) => DateTimeOffset.UnixEpoch + TimeSpan.FromTicks(round * interval.Ticks);
}

namespace Multichat.Persistence.Maintenance;

/// <summary>The answer of <see cref="IMaintenanceLeases.TryClaimAsync"/>.</summary>
/// <param name="Claimed">This holder runs the round.</param>
/// <param name="HeldUntil">When the round is held by another holder: when its lease expires, after which the round
/// may be claimed again if it is still not done. <see langword="null"/> when the round is done already.</param>
internal readonly record struct MaintenanceClaim(bool Claimed, DateTimeOffset? HeldUntil)
{
    public static MaintenanceClaim Won => new(true, null);

    public static MaintenanceClaim Done => new(false, null);

    public static MaintenanceClaim HeldBy(DateTimeOffset until) => new(false, until);
}

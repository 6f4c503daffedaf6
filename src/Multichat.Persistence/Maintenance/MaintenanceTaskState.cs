namespace Multichat.Persistence.Maintenance;

/// <summary>One scheduled task's shared state, as the in-store leases keep it.</summary>
/// <param name="CompletedRound">The latest round that completed (0 when none did).</param>
/// <param name="CompletedAt">When it completed.</param>
/// <param name="Holder">The instance that holds the lease, if any.</param>
/// <param name="LeaseExpiresAt">When that lease expires.</param>
internal sealed record MaintenanceTaskState(long CompletedRound, DateTimeOffset? CompletedAt, string? Holder, DateTimeOffset? LeaseExpiresAt)
{
    public static MaintenanceTaskState Empty { get; } = new(0, null, null, null);

    /// <summary>The one rule every lease store applies, so they cannot disagree: a round is claimable when it is not
    /// done and nobody else holds a live lease.</summary>
    public (MaintenanceClaim Claim, MaintenanceTaskState Next) Claim(long round, string holder, DateTimeOffset now, TimeSpan leaseTime)
    {
        if (CompletedRound >= round)
        {
            return (MaintenanceClaim.Done, this);
        }

        if (Holder is not null && Holder != holder && LeaseExpiresAt > now)
        {
            return (MaintenanceClaim.HeldBy(LeaseExpiresAt.Value), this);
        }

        return (MaintenanceClaim.Won, this with { Holder = holder, LeaseExpiresAt = now + leaseTime });
    }

    public MaintenanceTaskState? Renew(string holder, DateTimeOffset now, TimeSpan leaseTime) =>
        Holder == holder ? this with { LeaseExpiresAt = now + leaseTime } : null;

    public MaintenanceTaskState Complete(long round, string holder, DateTimeOffset completedAt) => this with
    {
        CompletedRound = Math.Max(CompletedRound, round),
        CompletedAt = CompletedRound >= round ? CompletedAt : completedAt,
        Holder = Holder == holder ? null : Holder,
        LeaseExpiresAt = Holder == holder ? null : LeaseExpiresAt,
    };

    public MaintenanceTaskState Release(string holder) => Holder == holder ? this with { Holder = null, LeaseExpiresAt = null } : this;
}

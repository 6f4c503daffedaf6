namespace Multichat.Persistence.Maintenance;

/// <summary>
/// Where the instances sharing one store agree on who runs each scheduled round, kept in the store itself so that it
/// holds across processes and machines: a round (a multiple of the task's interval since the Unix epoch) runs on the
/// one instance that claims it, is marked done when it completed, and is claimed again by another instance when its
/// holder died (its lease expired) or failed (it released it).
/// </summary>
internal interface IMaintenanceLeases
{
    /// <summary>Claims <paramref name="round"/> of <paramref name="task"/> for <paramref name="holder"/> for
    /// <paramref name="leaseTime"/>, unless that round (or a later one) is done or another holder's lease is live.</summary>
    Task<MaintenanceClaim> TryClaimAsync(string task, long round, string holder, TimeSpan leaseTime, CancellationToken cancellationToken);

    /// <summary>Extends <paramref name="holder"/>'s lease; <see langword="false"/> when it is no longer its own.</summary>
    Task<bool> RenewAsync(string task, string holder, TimeSpan leaseTime, CancellationToken cancellationToken);

    /// <summary>Marks <paramref name="round"/> done at <paramref name="completedAt"/> and lets the lease go.</summary>
    Task CompleteAsync(string task, long round, string holder, DateTimeOffset completedAt, CancellationToken cancellationToken);

    /// <summary>Lets the lease go without marking the round done (it failed), so the next attempt may run it.</summary>
    Task ReleaseAsync(string task, string holder, CancellationToken cancellationToken);

    /// <summary>When <paramref name="task"/> last completed a round, store-wide; <see langword="null"/> if never.</summary>
    Task<DateTimeOffset?> LastCompletedAsync(string task, CancellationToken cancellationToken);
}

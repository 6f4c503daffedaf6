namespace Multichat.Persistence.Maintenance;

/// <summary>
/// What the scheduled maintenance tells an observer: when a task starts waiting for a time (its timer is registered
/// by then) and when a round finished. The tests drive a <c>FakeTimeProvider</c> on these signals instead of sleeping.
/// </summary>
internal class MaintenanceSignals
{
    /// <summary>Signals that nobody observes.</summary>
    public static MaintenanceSignals None { get; } = new();

    public virtual void Waiting(string task, DateTimeOffset due)
    {
    }

    public virtual void Finished(MaintenanceRoundResult result)
    {
    }
}

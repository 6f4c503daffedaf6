namespace Multichat.Persistence.Maintenance;

/// <summary>What one scheduled round did on this instance (for logs, metrics and tests).</summary>
/// <param name="Task">"cleanup" or "backup".</param>
/// <param name="Round">The round (see <see cref="MaintenanceRounds"/>).</param>
/// <param name="Outcome">"completed", "failed", "done-elsewhere" (another instance completed it) or "held-elsewhere"
/// (another instance holds its lease).</param>
/// <param name="Error">The failure, for "failed".</param>
internal sealed record MaintenanceRoundResult(string Task, long Round, string Outcome, Exception? Error = null);

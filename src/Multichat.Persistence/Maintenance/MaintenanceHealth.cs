using System.Globalization;

namespace Multichat.Persistence.Maintenance;

/// <summary>Adds the scheduled maintenance to a health report: when backup and cleanup last ran (on any instance
/// sharing the store), and <see cref="StoreHealthStatus.Degraded"/> when backups are enabled but overdue.</summary>
internal static class MaintenanceHealth
{
    public static async Task<HealthReport> AddAsync(
        HealthReport report, SessionPersistenceOptions options, IMaintenanceLeases leases, DateTimeOffset openedAt, CancellationToken cancellationToken)
    {
        DateTimeOffset? lastBackup, lastCleanup;
        try
        {
            lastBackup = options.BackupEnabled ? await leases.LastCompletedAsync("backup", cancellationToken).ConfigureAwait(false) : null;
            lastCleanup = SessionMaintenanceService.CleansUp(options) ? await leases.LastCompletedAsync("cleanup", cancellationToken).ConfigureAwait(false) : null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return report with
            {
                Status = Worse(report.Status, StoreHealthStatus.Degraded),
                Description = $"{report.Description} The scheduled maintenance's state cannot be read: {ex.Message}",
            };
        }

        var parts = new List<string>();
        var status = report.Status;
        if (options.BackupEnabled)
        {
            parts.Add(lastBackup is { } backup ? $"last backup {Time(backup)}" : "no backup yet");
            var since = lastBackup ?? openedAt;
            if (options.TimeProvider.GetUtcNow() - since > options.BackupInterval * 2)
            {
                status = Worse(status, StoreHealthStatus.Degraded);
                parts.Add($"backups are overdue: none completed for over twice BackupInterval ({options.BackupInterval:c}); is a host running the scheduled maintenance?");
            }
        }

        if (SessionMaintenanceService.CleansUp(options))
        {
            parts.Add(lastCleanup is { } cleanup ? $"last cleanup {Time(cleanup)}" : "no cleanup yet");
        }

        return report with { Status = status, Description = $"{report.Description} Maintenance: {string.Join("; ", parts)}." };
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static StoreHealthStatus Worse(StoreHealthStatus a, StoreHealthStatus b) => Severity(a) >= Severity(b) ? a : b;

    private static int Severity(StoreHealthStatus status) => status switch
    {
        StoreHealthStatus.Healthy => 0,
        StoreHealthStatus.Degraded => 1,
        _ => 2,
    };
}

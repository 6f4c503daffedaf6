using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Maintenance;

/// <summary>
/// The scheduled maintenance <c>AddSessionPersistence</c> registers: cleanup every
/// <see cref="SessionPersistenceOptions.CleanupInterval"/> when a retention or limit setting is set, and a backup every
/// <see cref="SessionPersistenceOptions.BackupInterval"/> when <see cref="SessionPersistenceOptions.BackupEnabled"/>.
/// Each round runs on one of the instances sharing the store (see <see cref="IMaintenanceLeases"/>). With nothing
/// configured it ends at once.
/// </summary>
internal sealed class SessionMaintenanceService(SessionPersistence persistence, IOptions<SessionPersistenceOptions> options, ILogger logger)
    : BackgroundService
{
    /// <summary>Observes the rounds; tests set it before the host starts.</summary>
    internal MaintenanceSignals Signals { get; set; } = MaintenanceSignals.None;

    /// <summary>Whether <paramref name="options"/> ask for scheduled cleanup.</summary>
    public static bool CleansUp(SessionPersistenceOptions options) =>
        options.CleanupDays is not null || options.MaxSessions is not null || options.MaxMessagesPerSession is not null;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var leases = persistence.MaintenanceLeases;
        var holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        var tasks = new List<ScheduledTask>();
        var cleansUp = CleansUp(settings);
        if (cleansUp)
        {
            tasks.Add(new ScheduledTask(
                "cleanup", settings.CleanupInterval, (_, ct) => persistence.CleanupAsync(ct), leases, holder, settings.TimeProvider, logger, Signals));
        }

        var folder = persistence.BackupFolder;
        if (settings.BackupEnabled && folder is not null)
        {
            tasks.Add(new ScheduledTask(
                "backup",
                settings.BackupInterval,
                (round, ct) => ScheduledBackup.RunAsync(
                    persistence, folder, MaintenanceRounds.Start(round, settings.BackupInterval), settings.BackupsToKeep, logger, ct),
                leases,
                holder,
                settings.TimeProvider,
                logger,
                Signals));
        }

        if (tasks.Count == 0)
        {
            return Task.CompletedTask;
        }

        MaintenanceLog.Started(logger, cleansUp, settings.CleanupInterval, settings.BackupEnabled, settings.BackupInterval, folder);
        return Task.WhenAll(tasks.Select(task => task.RunAsync(stoppingToken)));
    }
}

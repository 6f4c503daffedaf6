using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Maintenance;

/// <summary>The scheduled maintenance's log events (event ids 601–609).</summary>
internal static partial class MaintenanceLog
{
    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Scheduled {Task} round {Round} completed.")]
    public static partial void RoundCompleted(ILogger logger, string task, long round);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "Scheduled {Task} round {Round} failed; the next round tries again.")]
    public static partial void RoundFailed(ILogger logger, string task, long round, Exception exception);

    [LoggerMessage(EventId = 603, Level = LogLevel.Debug, Message = "Scheduled {Task} round {Round} was left to another instance ({Outcome}).")]
    public static partial void RoundElsewhere(ILogger logger, string task, long round, string outcome);

    [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "Scheduled {Task} round {Round} lost its lease to another instance and was stopped.")]
    public static partial void LeaseLost(ILogger logger, string task, long round);

    [LoggerMessage(EventId = 605, Level = LogLevel.Information,
        Message = "Scheduled maintenance started: cleanup {Cleanup} every {CleanupInterval}, backup {Backup} every {BackupInterval} into {BackupFolder}.")]
    public static partial void Started(ILogger logger, bool cleanup, TimeSpan cleanupInterval, bool backup, TimeSpan backupInterval, string? backupFolder);

    [LoggerMessage(EventId = 606, Level = LogLevel.Information, Message = "Deleted backup {Path}, beyond the newest {Keep}.")]
    public static partial void BackupPruned(ILogger logger, string path, int keep);
}

using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Maintenance;

/// <summary>
/// One scheduled backup: the whole store into <c>multichat-yyyyMMddTHHmmssZ.mcbak</c> (the round's start, UTC), written
/// under a temporary name and renamed when complete (see <see cref="SessionPersistence.BackupAsync(string, CancellationToken)"/>),
/// then the oldest scheduled backups beyond the number to keep deleted. A takeover of the same round writes the same
/// name, so a round never leaves two backups.
/// </summary>
internal static class ScheduledBackup
{
    public const string Prefix = "multichat-";
    public const string Extension = ".mcbak";

    public static async Task RunAsync(
        SessionPersistence persistence, string folder, DateTimeOffset roundStart, int keep, ILogger logger, CancellationToken cancellationToken)
    {
        persistence.Files.CreateFolder(folder);
        await persistence.BackupAsync(Path.Combine(folder, FileName(roundStart)), cancellationToken).ConfigureAwait(false);
        Prune(folder, keep, logger);
    }

    public static string FileName(DateTimeOffset roundStart) =>
        Prefix + roundStart.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + Extension;

    /// <summary>The scheduled backups in <paramref name="folder"/>, newest first (their names sort by time).</summary>
    public static IReadOnlyList<string> List(string folder) => Directory.Exists(folder)
        ? [.. Directory.EnumerateFiles(folder, Prefix + "*" + Extension).Where(IsScheduled).OrderByDescending(Path.GetFileName, StringComparer.Ordinal)]
        : [];

    private static void Prune(string folder, int keep, ILogger logger)
    {
        foreach (var old in List(folder).Skip(keep))
        {
            File.Delete(old);
            MaintenanceLog.BackupPruned(logger, old, keep);
        }

        // Temporary files of backups whose writer died: this instance holds the lease, so none is being written.
        foreach (var orphan in Directory.EnumerateFiles(folder, Prefix + "*" + Extension + ".tmp-*"))
        {
            File.Delete(orphan);
        }
    }

    private static bool IsScheduled(string path) =>
        DateTime.TryParseExact(
            Path.GetFileNameWithoutExtension(path)[Prefix.Length..], "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
}

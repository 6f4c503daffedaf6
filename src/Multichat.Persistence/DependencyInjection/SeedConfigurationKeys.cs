using System.Globalization;
using Microsoft.Extensions.Configuration;
using Multichat.Persistence;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Reads the snake_case keys of the seed configuration, so existing settings files keep working. A setting given in
/// both spellings with different values is an error (naming both keys), never a silent choice: a file that says
/// <c>StorageType: Sqlite</c> and <c>storage_type: memory</c> has no right answer to guess.
/// </summary>
internal static class SeedConfigurationKeys
{
    public static void Apply(IConfiguration configuration, SessionPersistenceOptions options)
    {
        Agree(configuration, nameof(SessionPersistenceOptions.StorageType), "storage_type", static (a, b) =>
            Enum.TryParse<StorageType>(a, ignoreCase: true, out var x) && Enum.TryParse<StorageType>(b, ignoreCase: true, out var y) && x == y);
        Agree(configuration, nameof(SessionPersistenceOptions.StoragePath), "storage_path", static (a, b) => string.Equals(a, b, StringComparison.Ordinal));
        Agree(configuration, nameof(SessionPersistenceOptions.CleanupDays), "cleanup_days", SameNumber);
        Agree(configuration, nameof(SessionPersistenceOptions.MaxSessions), "max_sessions", SameNumber);
        Agree(configuration, nameof(SessionPersistenceOptions.MaxMessagesPerSession), "max_messages_per_session", SameNumber);
        Agree(configuration, nameof(SessionPersistenceOptions.CleanupInterval), "cleanup_interval", SameInterval);
        Agree(configuration, nameof(SessionPersistenceOptions.BackupEnabled), "backup_enabled", static (a, b) =>
            bool.TryParse(a, out var x) && bool.TryParse(b, out var y) && x == y);
        Agree(configuration, nameof(SessionPersistenceOptions.BackupInterval), "backup_interval", SameInterval);
        Agree(configuration, nameof(SessionPersistenceOptions.BackupPath), "backup_path", static (a, b) => string.Equals(a, b, StringComparison.Ordinal));
        Agree(configuration, nameof(SessionPersistenceOptions.BackupsToKeep), "backups_to_keep", SameNumber);
        Agree(configuration, nameof(SessionPersistenceOptions.ReadFrom), "read_from", static (a, b) => ReadFromWord(a) is { } x && x == ReadFromWord(b));
        Agree(configuration, nameof(SessionPersistenceOptions.MinReplicas), "min_replicas", SameNumber);
        Agree(configuration, nameof(SessionPersistenceOptions.ReplicaTimeout), "replica_timeout", SameTimeSpan);

        if (configuration["storage_type"] is { } storageType)
        {
            options.StorageType = Enum.TryParse<StorageType>(storageType, ignoreCase: true, out var parsed)
                ? parsed
                : throw new InvalidOperationException($"storage_type '{storageType}' is unknown; use json, sqlite, memory or redis.");
        }

        if (configuration["storage_path"] is { } storagePath)
        {
            options.StoragePath = storagePath;
        }

        options.CleanupDays = Int(configuration, "cleanup_days") ?? options.CleanupDays;
        options.MaxSessions = Int(configuration, "max_sessions") ?? options.MaxSessions;
        options.MaxMessagesPerSession = Int(configuration, "max_messages_per_session") ?? options.MaxMessagesPerSession;
        options.CleanupInterval = Interval(configuration, "cleanup_interval") ?? options.CleanupInterval;
        options.BackupEnabled = configuration["backup_enabled"] switch
        {
            null => options.BackupEnabled,
            var text when bool.TryParse(text, out var enabled) => enabled,
            var text => throw new InvalidOperationException($"backup_enabled '{text}' is not true or false."),
        };
        options.BackupInterval = Interval(configuration, "backup_interval") ?? options.BackupInterval;
        options.BackupPath = configuration["backup_path"] ?? options.BackupPath;
        options.BackupsToKeep = Int(configuration, "backups_to_keep") ?? options.BackupsToKeep;
        if (configuration["read_from"] is { } readFrom)
        {
            options.ReadFrom = ReadFromWord(readFrom) ?? throw new InvalidOperationException($"read_from '{readFrom}' is unknown; use primary or prefer_replica.");
        }

        options.MinReplicas = Int(configuration, "min_replicas") ?? options.MinReplicas;
        options.ReplicaTimeout = configuration["replica_timeout"] switch
        {
            null => options.ReplicaTimeout,
            var text when TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var timeout) => timeout,
            var text => throw new InvalidOperationException($"replica_timeout '{text}' is not a TimeSpan (for example \"00:00:01\" for 1 second)."),
        };
    }

    private static void Agree(IConfiguration configuration, string pascalKey, string seedKey, Func<string, string, bool> same)
    {
        if (configuration[pascalKey] is { } pascal && configuration[seedKey] is { } seed && !same(pascal, seed))
        {
            throw new InvalidOperationException(
                $"The configuration sets {pascalKey} to '{pascal}' and {seedKey} to '{seed}'; they are one setting in two spellings. Keep one of them.");
        }
    }

    private static bool SameNumber(string a, string b) =>
        int.TryParse(a, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x)
        && int.TryParse(b, NumberStyles.Integer, CultureInfo.InvariantCulture, out var y)
        && x == y;

    // The snake_case keys take snake_case words too: read_from: prefer_replica.
    private static ReadFrom? ReadFromWord(string text) =>
        Enum.TryParse<ReadFrom>(text.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : null;

    private static bool SameTimeSpan(string a, string b) =>
        TimeSpan.TryParse(a, CultureInfo.InvariantCulture, out var x) && TimeSpan.TryParse(b, CultureInfo.InvariantCulture, out var y) && x == y;

    private static bool SameInterval(string a, string b) =>
        IntervalSetting.TryParse(a, out var x) && IntervalSetting.TryParse(b, out var y) && x == y;

    private static TimeSpan? Interval(IConfiguration configuration, string key) =>
        configuration[key] is { } text ? IntervalSetting.Parse(key, text) : null;

    private static int? Int(IConfiguration configuration, string key) => configuration[key] switch
    {
        null => null,
        var text when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) => value,
        var text => throw new InvalidOperationException($"{key} '{text}' is not a whole number."),
    };
}

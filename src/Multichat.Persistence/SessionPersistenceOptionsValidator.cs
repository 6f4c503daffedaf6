using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Redis;

namespace Multichat.Persistence;

/// <summary>Checks <see cref="SessionPersistenceOptions"/>; each failure names the setting, the value and what is allowed.</summary>
public sealed class SessionPersistenceOptionsValidator : IValidateOptions<SessionPersistenceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SessionPersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        if (!Enum.IsDefined(options.StorageType))
        {
            failures.Add($"StorageType '{options.StorageType}' is unknown; use Json, Sqlite, Memory or Redis.");
        }

        var needsPath = options.StorageType is StorageType.Json
            || (options.StorageType is StorageType.Sqlite or StorageType.Redis && string.IsNullOrWhiteSpace(options.ConnectionString));
        if (needsPath && string.IsNullOrWhiteSpace(options.StoragePath))
        {
            failures.Add($"StoragePath is empty; the {options.StorageType} store needs "
                + (options.StorageType == StorageType.Redis ? "a redis://host:port URL (or set ConnectionString)." : "a folder."));
        }
        else if (options.StorageType is StorageType.Json or StorageType.Sqlite or StorageType.Redis)
        {
            Location(failures, options);
        }

        if (!Enum.IsDefined(options.Durability))
        {
            failures.Add($"Durability '{options.Durability}' is unknown; use Normal or Full.");
        }

        if (!Enum.IsDefined(options.FilePermissions))
        {
            failures.Add($"FilePermissions '{options.FilePermissions}' is unknown; use OwnerOnly (folders 0700, files 0600) or Inherit (the process's umask decides).");
        }

        if (options.StorageType == StorageType.Redis && string.IsNullOrEmpty(options.RedisKeyPrefix))
        {
            failures.Add("RedisKeyPrefix is empty; give a prefix such as 'multichat:' so applications sharing a Redis stay apart.");
        }

        Replication(failures, options);

        Range(failures, nameof(options.CleanupDays), options.CleanupDays, optional: true, 1, 36_500, "days");
        Range(failures, nameof(options.MaxSessions), options.MaxSessions, optional: true, 1, int.MaxValue, "sessions");
        Range(failures, nameof(options.MaxMessagesPerSession), options.MaxMessagesPerSession, optional: true, 1, int.MaxValue, "messages");
        if (!Enum.IsDefined(options.SessionLimitPolicy))
        {
            failures.Add($"SessionLimitPolicy '{options.SessionLimitPolicy}' is unknown; use Reject or EvictLeastRecentlyActive.");
        }

        if (!Enum.IsDefined(options.MessageLimitPolicy))
        {
            failures.Add($"MessageLimitPolicy '{options.MessageLimitPolicy}' is unknown; use TrimOldest or Reject.");
        }

        Range(failures, nameof(options.MaxContentLength), options.MaxContentLength, optional: false, 1, 64 * 1024 * 1024, "characters");
        Range(failures, nameof(options.MaxMetadataEntries), options.MaxMetadataEntries, optional: false, 0, 10_000, "entries");
        Range(failures, nameof(options.MaxMetadataValueLength), options.MaxMetadataValueLength, optional: false, 1, 16 * 1024 * 1024, "characters");
        Range(failures, nameof(options.MaxParticipants), options.MaxParticipants, optional: false, 1, 100_000, "participants");
        Range(failures, nameof(options.MaxBatchSize), options.MaxBatchSize, optional: false, 1, 100_000, "messages");

        EncryptionSettings(failures, options.Encryption);
        if (options.Compression is null)
        {
            failures.Add("Compression is null; leave it at its default (off) or set Enabled and MinSize.");
        }
        else
        {
            Range(failures, "Compression:MinSize", options.Compression.MinSize, optional: false, 16, 16 * 1024 * 1024, "bytes");
        }

        if (options.Cache is null)
        {
            failures.Add("Cache is null; leave it at its default (off) or set Enabled, MaxSessions, MaxBytes, MessagesPerSession and MaxStaleness.");
        }
        else
        {
            Range(failures, "Cache:MaxSessions", options.Cache.MaxSessions, optional: false, 1, 1_000_000, "sessions");
            Range(failures, "Cache:MessagesPerSession", options.Cache.MessagesPerSession, optional: false, 1, 10_000, "messages");
            if (options.Cache.MaxBytes is < 64 * 1024 or > 64L * 1024 * 1024 * 1024)
            {
                failures.Add($"Cache:MaxBytes is {options.Cache.MaxBytes}; it must be between 65536 and 68719476736 bytes (64 KiB to 64 GiB).");
            }

            if (options.Cache.MaxStaleness < TimeSpan.Zero || options.Cache.MaxStaleness > TimeSpan.FromHours(1))
            {
                failures.Add($"Cache:MaxStaleness is {options.Cache.MaxStaleness}; it must be between 00:00:00 (the default: every read checks the store) and 01:00:00.");
            }
        }

        Duration(failures, nameof(options.JsonLockTimeout), options.JsonLockTimeout, TimeSpan.FromHours(1));
        Duration(failures, nameof(options.SqliteBusyTimeout), options.SqliteBusyTimeout, TimeSpan.FromHours(1));
        Duration(failures, nameof(options.RedisConnectTimeout), options.RedisConnectTimeout, TimeSpan.FromMinutes(10));
        Duration(failures, nameof(options.RedisOperationTimeout), options.RedisOperationTimeout, TimeSpan.FromMinutes(10));
        Interval(failures, nameof(options.CleanupInterval), options.CleanupInterval);
        Interval(failures, nameof(options.BackupInterval), options.BackupInterval);
        Range(failures, nameof(options.BackupsToKeep), options.BackupsToKeep, optional: false, 1, 10_000, "backups");
        if (options.BackupEnabled && string.IsNullOrWhiteSpace(options.BackupPath) && options.StorageType is StorageType.Memory or StorageType.Redis)
        {
            failures.Add($"BackupPath is empty; with BackupEnabled the {options.StorageType} store needs a folder for its backups (it has no folder of its own).");
        }
        else if (options.BackupEnabled && options.BackupPath is { Length: > 0 } backupPath && File.Exists(backupPath))
        {
            failures.Add($"BackupPath '{backupPath}' is a file; scheduled backups need a folder (it is created when missing).");
        }

        if (options.TimeProvider is null)
        {
            failures.Add("TimeProvider is null; leave it at TimeProvider.System or give a clock.");
        }

        if (failures.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        // A keyed instance (AddKeyedSessionPersistence) says which one is misconfigured.
        return ValidateOptionsResult.Fail(string.IsNullOrEmpty(name) ? failures : failures.Select(f => $"Session persistence '{name}': {f}"));
    }

    /// <summary>
    /// Checks what can be checked without touching the backend, so a wrong location fails at host start instead of
    /// at the first call: a folder that is a file, a connection string that does not parse, a URL that is none.
    /// </summary>
    private static void Location(List<string> failures, SessionPersistenceOptions options)
    {
        var usesPath = string.IsNullOrWhiteSpace(options.ConnectionString);
        switch (options.StorageType)
        {
            case StorageType.Json or StorageType.Sqlite when usesPath && File.Exists(options.StoragePath):
                failures.Add($"StoragePath '{options.StoragePath}' is a file; the {options.StorageType} store needs a folder (it creates it when missing).");
                break;
            case StorageType.Sqlite when !usesPath:
                // An in-memory database parses; the store refuses it with NotSupportedException, naming the Memory store.
                try
                {
                    _ = new SqliteConnectionStringBuilder(options.ConnectionString);
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
                {
                    failures.Add($"ConnectionString is not a SQLite connection string ({ex.Message}); give one such as 'Data Source=data/sessions.db'.");
                }

                break;
            case StorageType.Redis:
                try
                {
                    _ = RedisConnection.Configure(StoreFactory.RedisOptions(options));
                }
                catch (ArgumentException ex)
                {
                    failures.Add(usesPath
                        ? ex.Message
                        : $"ConnectionString is not a StackExchange.Redis configuration string ({ex.Message}); give one such as '127.0.0.1:6379,password=…'.");
                }

                break;
        }
    }

    /// <summary>ReadFrom, MinReplicas and ReplicaTimeout (Redis replication; see docs/storage/redis.md).</summary>
    private static void Replication(List<string> failures, SessionPersistenceOptions options)
    {
        if (!Enum.IsDefined(options.ReadFrom))
        {
            failures.Add($"ReadFrom '{options.ReadFrom}' is unknown; use Primary or PreferReplica.");
        }

        Range(failures, nameof(options.MinReplicas), options.MinReplicas, optional: false, 0, 100, "replicas (0: acknowledged once the primary has the write)");
        Duration(failures, nameof(options.ReplicaTimeout), options.ReplicaTimeout, TimeSpan.FromMinutes(1));

        // The client gives up on a command after RedisOperationTimeout; WAIT must answer (with its count) before that.
        if (options.StorageType == StorageType.Redis && options.MinReplicas > 0 && options.ReplicaTimeout >= options.RedisOperationTimeout)
        {
            failures.Add($"ReplicaTimeout is {options.ReplicaTimeout} and RedisOperationTimeout {options.RedisOperationTimeout}; with MinReplicas the replicas' wait must end before the command timeout, so make ReplicaTimeout shorter.");
        }
    }

    private static void Duration(List<string> failures, string setting, TimeSpan value, TimeSpan max)
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > max)
        {
            failures.Add($"{setting} is {value}; it must be between 1 ms and {max} (for example \"00:00:30\" for 30 seconds).");
        }
    }

    private static void Interval(List<string> failures, string setting, TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1) || value > TimeSpan.FromDays(365))
        {
            failures.Add($"{setting} is {value}; it must be between 1 second and 365 days (\"hourly\", \"daily\", \"weekly\" or a TimeSpan such as \"06:00:00\").");
        }
    }

    /// <summary>The key ring from configuration: every key base64 of 32 bytes, the current one listed. Messages name the
    /// setting and never show a key.</summary>
    private static void EncryptionSettings(List<string> failures, EncryptionOptions? encryption)
    {
        if (encryption is null)
        {
            failures.Add("Encryption is null; leave it at its default (off) or set CurrentKeyId and Keys.");
            return;
        }

        foreach (var (id, value) in encryption.Keys)
        {
            if (!EncryptionKeyRing.IsValidKeyId(id))
            {
                failures.Add($"Encryption:Keys has a key id that is not valid; use 1 to {EncryptionKeyRing.MaxKeyIdLength} ASCII letters, digits, '-', '_' or '.'.");
                continue;
            }

            var bytes = new byte[EncryptionKeyRing.KeySize + 3];
            if (string.IsNullOrWhiteSpace(value) || !Convert.TryFromBase64String(value.Trim(), bytes, out var length) || length != EncryptionKeyRing.KeySize)
            {
                failures.Add($"Encryption:Keys:{id} is not the base64 of {EncryptionKeyRing.KeySize} bytes (AES-256); make one with 'openssl rand -base64 32'.");
            }

            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        }

        if (encryption.KeyProvider is not null)
        {
            return;
        }

        if (!string.IsNullOrEmpty(encryption.CurrentKeyId) && !encryption.Keys.ContainsKey(encryption.CurrentKeyId))
        {
            failures.Add($"Encryption:CurrentKeyId is '{(EncryptionKeyRing.IsValidKeyId(encryption.CurrentKeyId) ? encryption.CurrentKeyId : "(not a valid key id)")}', " +
                "which is not among Encryption:Keys; add Encryption:Keys:{id} for it.");
        }
        else if (string.IsNullOrEmpty(encryption.CurrentKeyId) && encryption.Keys.Count > 0)
        {
            failures.Add("Encryption:Keys lists keys but Encryption:CurrentKeyId is empty; name the key that encrypts.");
        }
    }

    private static void Range(List<string> failures, string setting, int? value, bool optional, int min, int max, string unit)
    {
        if (value is { } v && (v < min || v > max))
        {
            failures.Add($"{setting} is {v}; it must be between {min} and {max} {unit}"
                + (optional ? " (leave it unset for no limit)." : "."));
        }
    }
}

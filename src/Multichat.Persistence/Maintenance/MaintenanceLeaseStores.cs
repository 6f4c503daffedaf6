using Multichat.Persistence.Internal;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Stores.Redis;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Maintenance;

/// <summary>Where a store keeps its maintenance leases: beside its files, in its Redis, or (a store only this process
/// reaches) in this process.</summary>
internal static class MaintenanceLeaseStores
{
    public static IMaintenanceLeases For(ISessionStore store, SessionPersistenceOptions options) => SessionStorePipeline.Unwrap(store) switch
    {
        JsonStore => new FileMaintenanceLeases(
            Path.Combine(Path.GetFullPath(options.StoragePath), "maintenance.json"), options.TimeProvider, FileCreator.For(options.FilePermissions)),
        SqliteStore sqlite => new FileMaintenanceLeases(sqlite.DataSource + "-maintenance.json", options.TimeProvider, FileCreator.For(options.FilePermissions)),
        RedisStore redis => redis.MaintenanceLeases,
        _ => new MemoryMaintenanceLeases(options.TimeProvider),
    };

    /// <summary>The folder scheduled backups go to: <see cref="SessionPersistenceOptions.BackupPath"/>, else beside the
    /// store's own files; <see langword="null"/> for a store without files when none is configured.</summary>
    public static string? BackupFolder(ISessionStore store, SessionPersistenceOptions options) =>
        options.BackupPath is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : SessionStorePipeline.Unwrap(store) switch
            {
                JsonStore => Path.Combine(Path.GetFullPath(options.StoragePath), "backups"),
                SqliteStore sqlite => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(sqlite.DataSource))!, "backups"),
                _ => null,
            };
}

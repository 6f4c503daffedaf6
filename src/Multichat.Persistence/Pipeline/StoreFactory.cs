using Microsoft.Extensions.Logging;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Stores.Memory;
using Multichat.Persistence.Stores.Redis;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence.Pipeline;

/// <summary>
/// Opens the store that <see cref="SessionPersistenceOptions.StorageType"/> names, handing it its own options record:
/// the only place that reads the facade's settings on a store's behalf, so no store knows the facade's bag.
/// </summary>
internal static class StoreFactory
{
    public static ISessionStore Create(SessionPersistenceOptions options, ILoggerFactory loggerFactory) => options.StorageType switch
    {
        StorageType.Memory => new MemoryStore(options.TimeProvider, loggerFactory.CreateLogger<MemoryStore>()),
        StorageType.Json => new JsonStore(JsonOptions(options), loggerFactory),
        StorageType.Sqlite => new SqliteStore(SqliteOptions(options), loggerFactory.CreateLogger<SqliteStore>()),
        StorageType.Redis => new RedisStore(RedisOptions(options), loggerFactory.CreateLogger<RedisStore>()),
        _ => throw new NotSupportedException($"StorageType {options.StorageType} is unknown; use Json, Sqlite, Memory or Redis."),
    };

    public static JsonStoreOptions JsonOptions(SessionPersistenceOptions options) =>
        new(options.StoragePath, options.Durability, options.JsonLockTimeout, options.TimeProvider, options.FaultInjection, options.FilePermissions);

    public static SqliteStoreOptions SqliteOptions(SessionPersistenceOptions options) => new(
        options.ConnectionString is { Length: > 0 } configured
            ? configured
            : new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(Path.Combine(options.StoragePath, SqliteStore.FileName)) }.ToString(),
        options.Durability,
        options.SqliteBusyTimeout,
        options.TimeProvider,
        options.FaultInjection,
        options.FilePermissions);

    public static RedisStoreOptions RedisOptions(SessionPersistenceOptions options) => new(
        options.ConnectionString, options.StoragePath, options.RedisKeyPrefix, options.RedisConnectTimeout, options.RedisOperationTimeout, options.TimeProvider, options.FaultInjection)
    {
        ReadFrom = options.ReadFrom,
        MinReplicas = options.MinReplicas,
        ReplicaTimeout = options.ReplicaTimeout,
    };
}

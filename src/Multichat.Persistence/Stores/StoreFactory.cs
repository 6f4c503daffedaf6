using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Stores.Memory;
using Multichat.Persistence.Stores.Redis;
using Multichat.Persistence.Stores.Sqlite;

namespace Multichat.Persistence;

/// <summary>Opens the store that <see cref="SessionPersistenceOptions.StorageType"/> names.</summary>
internal static class StoreFactory
{
    public static ISessionStore Create(SessionPersistenceOptions options, ILoggerFactory? loggerFactory = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        return options.StorageType switch
        {
            StorageType.Memory => new MemoryStore(options.TimeProvider),
            StorageType.Json => new JsonStore(options.StoragePath, options.Durability, options.TimeProvider, loggerFactory),
            StorageType.Sqlite => new SqliteStore(
                SqliteStore.ConnectionStringFor(options), options.Durability, options.TimeProvider, loggerFactory.CreateLogger<SqliteStore>()),
            StorageType.Redis => RedisStore.Open(options, loggerFactory),
            _ => throw new NotSupportedException(
                $"StorageType {options.StorageType} is unknown; use Json, Sqlite, Memory or Redis."),
        };
    }
}

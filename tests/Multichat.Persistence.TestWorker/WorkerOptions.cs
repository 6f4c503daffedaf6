namespace Multichat.Persistence.TestWorker;

/// <summary>The options every mode opens its store with: a location that looks like a connection string is one.</summary>
internal static class WorkerOptions
{
    public static SessionPersistenceOptions For(string storageType, string location, Durability durability, string? redisKeyPrefix)
    {
        var options = new SessionPersistenceOptions
        {
            StorageType = Enum.Parse<StorageType>(storageType, ignoreCase: true),
            Durability = durability,
        };
        if (location.Contains('=', StringComparison.Ordinal) || (options.StorageType == StorageType.Redis && !location.StartsWith("redis://", StringComparison.Ordinal)))
        {
            options.ConnectionString = location;
        }
        else
        {
            options.StoragePath = location;
        }

        if (redisKeyPrefix is not null)
        {
            options.RedisKeyPrefix = redisKeyPrefix;
        }

        // Several suites start workers at once on a 2-core machine; the 5 s defaults made workers miss their first
        // connection under that load. A connection string's own timeouts still win.
        options.RedisConnectTimeout = TimeSpan.FromSeconds(30);
        options.RedisOperationTimeout = TimeSpan.FromSeconds(30);

        return options;
    }
}

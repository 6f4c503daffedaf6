using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>Log events of the Redis store (ids 5101–5199). Never logs keys, ids or content.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "A Redis connection ({ConnectionType}) failed: {FailureType}. Calls fail with StoreUnavailableException until it is restored.")]
    public static partial void ConnectionFailed(ILogger logger, ConnectionFailureType failureType, ConnectionType connectionType);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "A Redis connection ({ConnectionType}) was restored.")]
    public static partial void ConnectionRestored(ILogger logger, ConnectionType connectionType);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Removed {Count} index entries of sessions that no longer exist.")]
    public static partial void StaleIndexEntriesRemoved(ILogger logger, int count);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "A damaged session record was left out of a listing; reading that session reports it.")]
    public static partial void DamagedSessionSkipped(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "A create or delete on a Redis Cluster is done but its session-count lease could not be settled; the count stays high (never past MaxSessions) until the lease expires and a recount.")]
    public static partial void SessionCountNotSettled(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "A session index of a bucket holds data of another type; that bucket's sessions were left out of a listing. Delete the index key; each session is indexed again by its next change.")]
    public static partial void DamagedIndexSkipped(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "The change feed could not subscribe to or unsubscribe from a bucket's channel; its watchers read the store every poll interval until the connection is restored.")]
    public static partial void FeedSubscriptionFailed(ILogger logger, Exception exception);
}

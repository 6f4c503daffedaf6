using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Log events of the Sqlite store (ids 400–499). Never logs ids, titles or content.</summary>
internal static partial class SqliteLog
{
    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Migrated the Sqlite schema from version {From} to {To}.")]
    public static partial void SchemaMigrated(ILogger logger, long from, long to);

    [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "The Sqlite database was busy (another writer); retrying {Operation}, attempt {Attempt}.")]
    public static partial void BusyRetry(ILogger logger, string operation, int attempt);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "Polling the Sqlite database for other connections' commits failed; watchers were woken to read it, and the poll retries in a second.")]
    public static partial void ChangePollFailed(ILogger logger, Exception exception);
}

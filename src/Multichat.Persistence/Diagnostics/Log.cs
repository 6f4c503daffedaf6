using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Diagnostics;

/// <summary>Log events with stable ids. Never logs content, titles, metadata or ids: they may be personal data. The one
/// exception is eviction (event 607, <see cref="Maintenance.SessionEvictionLog"/>): an operator must be able to tell
/// which session a create under <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/> deleted.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Opened the {Store} session store.")]
    public static partial void StoreOpened(ILogger logger, string store);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Operation} on the {Store} store failed.")]
    public static partial void OperationFailed(ILogger logger, string operation, string store, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Cleanup removed {ExpiredSessions} expired and {ExcessSessions} excess sessions and trimmed {TrimmedMessages} messages.")]
    public static partial void CleanupCompleted(ILogger logger, int expiredSessions, int excessSessions, long trimmedMessages);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Imported {Sessions} sessions and {Messages} messages.")]
    public static partial void ImportCompleted(ILogger logger, long sessions, long messages);
}

using Microsoft.Extensions.Logging;
using Multichat.Persistence.Diagnostics;

namespace Multichat.Persistence.Maintenance;

/// <summary>
/// How a store reports a session it evicted under <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/>: log event
/// 607 naming the session (the one log event that carries an id, because "which session went" is its whole point) and
/// the <c>multichat.persistence.sessions.evicted</c> counter. Every store calls it once per evicted session, after the
/// eviction is committed.
/// </summary>
internal static partial class SessionEvictionLog
{
    public static void Report(ILogger logger, string store, string evictedSessionId, string createdSessionId, int maxSessions)
    {
        PersistenceTelemetry.SessionsEvicted.Add(1, new KeyValuePair<string, object?>("store", store));
        Evicted(logger, evictedSessionId, createdSessionId, maxSessions);
    }

    [LoggerMessage(EventId = 607, Level = LogLevel.Information,
        Message = "Evicted session {EvictedSessionId}, the least recently active, to make room for session {CreatedSessionId} under MaxSessions {MaxSessions}.")]
    private static partial void Evicted(ILogger logger, string evictedSessionId, string createdSessionId, int maxSessions);
}

using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Protection;

/// <summary>The re-encryption's log events (event ids 701–709). Like every event but eviction's, they carry no session
/// id, content or key: counts only.</summary>
internal static partial class ReencryptionLog
{
    [LoggerMessage(EventId = 701, Level = LogLevel.Information,
        Message = "Re-encryption rewrote {SessionsRewritten} sessions ({MessagesRewritten} messages) under key {KeyId}; {SessionsAlreadyCurrent} were already current.")]
    public static partial void Completed(ILogger logger, long sessionsRewritten, long messagesRewritten, string keyId, long sessionsAlreadyCurrent);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning,
        Message = "Re-encryption left {SessionsBusy} sessions as they were: they changed under each of {Attempts} attempts. Run it again before dropping an old key.")]
    public static partial void SessionsBusy(ILogger logger, long sessionsBusy, int attempts);
}

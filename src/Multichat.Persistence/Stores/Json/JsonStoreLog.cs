using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Stores.Json;

/// <summary>Log events of the Json store. Never logs ids, content or paths below the root: they may be personal data.</summary>
internal static partial class JsonStoreLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "Skipped a damaged line of {Length} bytes at byte {Offset} of a session's messages file; the rest of the session stays readable.")]
    public static partial void DamagedLineSkipped(ILogger logger, long offset, int length);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information,
        Message = "Removed {Bytes} bytes of an unfinished write at the end of a session's messages file (a writer stopped mid-write).")]
    public static partial void TornTailRepaired(ILogger logger, long bytes);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Waited {Seconds} s for a session's lock held by another process; giving up.")]
    public static partial void LockTimedOut(ILogger logger, double seconds);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Waited {Seconds} s for the store's session count lock (MaxSessions); giving up.")]
    public static partial void CountLockTimedOut(ILogger logger, double seconds);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Waited {Seconds} s for a session busy in this instance; giving up.")]
    public static partial void GateTimedOut(ILogger logger, double seconds);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error,
        Message = "A session's session.json is damaged: {Problem}. That session gives StoreCorruptedException and is left out of listings; the others are served.")]
    public static partial void DamagedRecord(ILogger logger, string problem);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Error,
        Message = "A session's messages file ends at sequence {LastInFile}, but sequences up to {Highest} were issued: its lines were lost or replaced. New messages continue above {Highest}.")]
    public static partial void SequencesLost(ILogger logger, long lastInFile, long highest);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Error,
        Message = "A whole message line of {Length} bytes at byte {Offset} of a session's messages file lost its line break; moved to messages.jsonl.damaged, its sequence stays issued.")]
    public static partial void DamagedTailSetAside(ILogger logger, long offset, int length);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Error,
        Message = "A session's reads.json is damaged: {Problem}. Moved to reads.json.damaged; that session's read cursors start again from none (its messages are not affected).")]
    public static partial void DamagedReadsSetAside(ILogger logger, string problem);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning,
        Message = "Could not watch a session's folder for changes by other processes ({Reason}); its change feed polls every {Milliseconds} ms instead.")]
    public static partial void FolderWatchFailed(ILogger logger, string reason, double milliseconds);
}

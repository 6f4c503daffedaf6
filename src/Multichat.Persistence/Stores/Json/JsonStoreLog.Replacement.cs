using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Stores.Json;

/// <summary>Log events of the Json store's session replacement (restore); in a file of its own, numbered apart from 3001-3008.</summary>
internal static partial class JsonStoreLog
{
    [LoggerMessage(EventId = 3020, Level = LogLevel.Information,
        Message = "Finished replacing a session that a restore had committed but not yet swapped in (the restoring process stopped); the session is now as in the archive.")]
    public static partial void ReplacementRolledForward(ILogger logger);
}

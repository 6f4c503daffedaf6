using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>Maps StackExchange.Redis failures to the store's exceptions (DESIGN §4.7).</summary>
internal static class RedisErrors
{
    // Errors that say the server cannot serve now (even when raised inside a script, whose error text then names the
    // script too) are transient; a type error or a failing script line means data of a shape the store did not write.
    private static readonly string[] TransientErrors = ["OOM", "LOADING", "BUSY", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOREPLICAS", "NOAUTH", "WRONGPASS", "NOPERM", "MISCONF"];

    /// <summary>What a refused authentication is reported as, whichever way it shows.</summary>
    public const string AuthenticationFailedMessage =
        "Redis refused the store's authentication (wrong password or user, or none given to a server that requires one); the operation did not happen. Check the password and user of the connection settings.";

    /// <summary>The store exception a backend failure surfaces as, or <see langword="null"/> to let it pass (cancellation, disposal).</summary>
    /// <param name="ex">The failure.</param>
    /// <param name="authenticationFailing">Whether the connection's last reconnect was refused for its authentication
    /// (see <see cref="RedisConnection.AuthenticationFailing"/>): a call that then finds no connection fails because of it.</param>
    public static SessionPersistenceException? Translate(Exception ex, bool authenticationFailing = false) => ex switch
    {
        RedisException when IsAuthenticationFailure(ex) => new StoreUnavailableException(AuthenticationFailedMessage, ex),
        RedisConnectionException or RedisTimeoutException when authenticationFailing => new StoreUnavailableException(AuthenticationFailedMessage, ex),
        RedisTimeoutException => new StoreUnavailableException(
            "Redis did not answer in time; the operation may or may not have happened (a retried append is not duplicated). Check the server and the timeouts of the connection string.",
            ex),
        RedisConnectionException => new StoreUnavailableException(
            "Redis cannot be reached; the operation may or may not have happened (a retried append is not duplicated). Check that the server runs and the connection settings.",
            ex),
        RedisServerException server when IsDataError(server) => new StoreCorruptedException(
            "Redis holds data of an unexpected shape for this store (a key of the store's prefix was written by something else).", ex),
        RedisException => new StoreUnavailableException(
            "Redis refused the operation; it is not ready to serve the store (loading, read-only, out of memory or a cluster change).", ex),
        _ => null,
    };

    // The refusal may come as the connect attempt's failure type, as a server error (NOAUTH, WRONGPASS) of a command,
    // or wrapped in the exception of a command that found no authenticated connection.
    private static bool IsAuthenticationFailure(Exception ex)
    {
        for (var current = ex; current is not null; current = current.InnerException)
        {
            if (current is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }
                || (current is RedisServerException && (current.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || current.Message.StartsWith("WRONGPASS", StringComparison.Ordinal))))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsDataError(RedisServerException ex)
    {
        var message = ex.Message;
        foreach (var transient in TransientErrors)
        {
            if (message.StartsWith(transient, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return message.StartsWith("WRONGTYPE", StringComparison.Ordinal)
            || message.Contains("user_script", StringComparison.Ordinal)
            || message.Contains("Error running script", StringComparison.Ordinal);
    }
}

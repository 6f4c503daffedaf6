namespace Multichat.Persistence;

/// <summary>No session with the given id exists in the store.</summary>
public sealed class SessionNotFoundException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public SessionNotFoundException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SessionNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public SessionNotFoundException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a session id.</summary>
    public static SessionNotFoundException ForSession(string sessionId) =>
        new($"Session '{sessionId}' does not exist. Create it with CreateSessionAsync first.") { SessionId = sessionId };

    /// <summary>The id of the session that was not found, when known.</summary>
    public string? SessionId { get; init; }
}

namespace Multichat.Persistence;

/// <summary>A session with the given id exists already.</summary>
public sealed class SessionAlreadyExistsException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public SessionAlreadyExistsException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SessionAlreadyExistsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public SessionAlreadyExistsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a session id.</summary>
    public static SessionAlreadyExistsException ForSession(string sessionId) =>
        new($"Session '{sessionId}' exists already. Use GetSessionAsync to read it, or pick another id.") { SessionId = sessionId };

    /// <summary>The id of the session that exists already, when known.</summary>
    public string? SessionId { get; init; }
}

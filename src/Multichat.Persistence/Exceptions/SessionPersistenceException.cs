namespace Multichat.Persistence;

/// <summary>The base of every store outcome this library reports (caller mistakes are <see cref="ArgumentException"/>s).</summary>
public class SessionPersistenceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SessionPersistenceException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SessionPersistenceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public SessionPersistenceException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

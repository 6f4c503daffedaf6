namespace Multichat.Persistence;

/// <summary>A configured limit (such as MaxSessions) does not allow the operation.</summary>
public sealed class QuotaExceededException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public QuotaExceededException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public QuotaExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public QuotaExceededException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

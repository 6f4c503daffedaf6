namespace Multichat.Persistence;

/// <summary>The store's data is damaged or of a format this version cannot read.</summary>
public sealed class StoreCorruptedException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public StoreCorruptedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StoreCorruptedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public StoreCorruptedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

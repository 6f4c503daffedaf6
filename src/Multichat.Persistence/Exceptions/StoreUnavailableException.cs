namespace Multichat.Persistence;

/// <summary>The store's backend cannot be reached or did not answer in time; the operation may or may not have happened (an append retried with the same message id is never duplicated). <see cref="ReplicationTimeoutException"/> is the case where the primary has the write but its replicas did not confirm it.</summary>
public class StoreUnavailableException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public StoreUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public StoreUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

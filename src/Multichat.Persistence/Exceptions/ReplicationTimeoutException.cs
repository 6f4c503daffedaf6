namespace Multichat.Persistence;

/// <summary>
/// The primary stored the write, but fewer replicas than <see cref="SessionPersistenceOptions.MinReplicas"/> confirmed it
/// within <see cref="SessionPersistenceOptions.ReplicaTimeout"/>, so it was not acknowledged: the write may exist (and may
/// be lost if the primary fails now). Retrying with the same message ids is safe (an append is never stored twice); an
/// update is retried with the version read back.
/// </summary>
public sealed class ReplicationTimeoutException : StoreUnavailableException
{
    /// <summary>Creates the exception.</summary>
    public ReplicationTimeoutException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ReplicationTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public ReplicationTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

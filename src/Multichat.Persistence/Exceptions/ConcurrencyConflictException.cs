namespace Multichat.Persistence;

/// <summary>The session was changed by someone else since it was read: its Version no longer matches.</summary>
public sealed class ConcurrencyConflictException : SessionPersistenceException
{
    /// <summary>Creates the exception.</summary>
    public ConcurrencyConflictException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ConcurrencyConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public ConcurrencyConflictException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a session whose stored version differs from the expected one.</summary>
    public static ConcurrencyConflictException ForSession(string sessionId, long expectedVersion, long actualVersion) =>
        new($"Session '{sessionId}' was changed concurrently: expected version {expectedVersion}, stored version {actualVersion}. Read it again, reapply your change and retry.")
        {
            SessionId = sessionId,
            ExpectedVersion = expectedVersion,
            ActualVersion = actualVersion,
        };

    /// <summary>The id of the session, when known.</summary>
    public string? SessionId { get; init; }

    /// <summary>The version the caller passed in.</summary>
    public long ExpectedVersion { get; init; }

    /// <summary>The version the store holds.</summary>
    public long ActualVersion { get; init; }
}

namespace Multichat.Persistence;

/// <summary>What <see cref="SessionPersistence.CleanupAsync(CancellationToken)"/> removed.</summary>
/// <param name="ExpiredSessions">Sessions deleted because they had no activity for <see cref="SessionPersistenceOptions.CleanupDays"/>.</param>
/// <param name="ExcessSessions">Least recently active sessions deleted beyond <see cref="SessionPersistenceOptions.MaxSessions"/>.</param>
/// <param name="TrimmedMessages">Oldest messages removed beyond <see cref="SessionPersistenceOptions.MaxMessagesPerSession"/>.</param>
public sealed record CleanupReport(int ExpiredSessions, int ExcessSessions, long TrimmedMessages);

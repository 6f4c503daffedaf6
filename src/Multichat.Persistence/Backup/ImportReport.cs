namespace Multichat.Persistence;

/// <summary>What <see cref="SessionPersistence.ImportAsync"/> or <see cref="SessionPersistence.RestoreAsync(string, CancellationToken)"/> wrote.</summary>
/// <param name="Sessions">Sessions written.</param>
/// <param name="Messages">Messages written.</param>
public sealed record ImportReport(long Sessions, long Messages);

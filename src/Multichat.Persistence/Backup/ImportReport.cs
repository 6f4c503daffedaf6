namespace Multichat.Persistence;

/// <summary>What <see cref="SessionPersistence.ImportAsync(IAsyncEnumerable{PortableItem}, bool, CancellationToken)"/> or a restore wrote.</summary>
/// <param name="Sessions">Sessions written.</param>
/// <param name="Messages">Messages written.</param>
public sealed record ImportReport(long Sessions, long Messages)
{
    /// <summary>Sessions of the archive left out because the store held them (<see cref="RestoreMode.Skip"/>).</summary>
    public long SkippedSessions { get; init; }
}

namespace Multichat.Persistence;

/// <summary>Counts of what a store holds, from <see cref="SessionPersistence.GetStatisticsAsync"/>.</summary>
public sealed record StoreStatistics
{
    /// <summary>The store kind.</summary>
    public required string Store { get; init; }

    /// <summary>How many sessions the store holds.</summary>
    public long SessionCount { get; init; }

    /// <summary>How many messages the store holds, over all sessions.</summary>
    public long MessageCount { get; init; }

    /// <summary>Bytes the store occupies on its backend, when the store can tell cheaply; otherwise <see langword="null"/>.</summary>
    public long? StorageBytes { get; init; }
}

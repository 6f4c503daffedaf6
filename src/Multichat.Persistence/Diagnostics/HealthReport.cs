namespace Multichat.Persistence;

/// <summary>The result of <see cref="SessionPersistence.CheckHealthAsync"/>.</summary>
public sealed record HealthReport
{
    /// <summary>The overall state.</summary>
    public required StoreHealthStatus Status { get; init; }

    /// <summary>The store kind that was checked.</summary>
    public required string Store { get; init; }

    /// <summary>What was found, in words.</summary>
    public string? Description { get; init; }

    /// <summary>How long the check took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The failure, when the check failed with one.</summary>
    public Exception? Exception { get; init; }

    /// <summary>Whether <see cref="Status"/> is <see cref="StoreHealthStatus.Healthy"/>.</summary>
    public bool IsHealthy => Status == StoreHealthStatus.Healthy;
}

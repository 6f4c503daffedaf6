namespace Multichat.Persistence;

/// <summary>How well a store works.</summary>
public enum StoreHealthStatus
{
    /// <summary>The store cannot serve requests.</summary>
    Unhealthy = 0,

    /// <summary>The store serves requests but found a problem (such as a damaged record it skips).</summary>
    Degraded = 1,

    /// <summary>The store works.</summary>
    Healthy = 2,
}

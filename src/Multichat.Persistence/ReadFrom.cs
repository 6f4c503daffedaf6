namespace Multichat.Persistence;

/// <summary>Which Redis server answers the Redis store's reads of one session (<see cref="SessionPersistenceOptions.ReadFrom"/>).</summary>
public enum ReadFrom
{
    /// <summary>The primary answers every read: each read sees every acknowledged write of every instance. The default.</summary>
    Primary = 0,

    /// <summary>
    /// A replica answers reads of a session's record and messages when one is connected, the primary otherwise. This
    /// instance still reads its own writes: a replica's answer older than what this instance last wrote in the session
    /// is dropped and the primary asked instead. Writes of other instances may show late (a replica lags), unless
    /// <see cref="SessionPersistenceOptions.MinReplicas"/> makes every write reach the replicas before it is
    /// acknowledged. Listings, statistics and health checks always read the primary. See docs/storage/redis.md.
    /// </summary>
    PreferReplica = 1,
}

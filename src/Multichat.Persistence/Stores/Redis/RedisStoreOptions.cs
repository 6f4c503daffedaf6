using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>What the Redis store needs to open, built from <see cref="SessionPersistenceOptions"/> in the one composition place.</summary>
/// <param name="ConnectionString">A StackExchange.Redis configuration string, or <see langword="null"/> to use <paramref name="Url"/>.</param>
/// <param name="Url">A <c>redis://[user:password@]host:port[/db]</c> URL, used when <paramref name="ConnectionString"/> is empty.</param>
/// <param name="KeyPrefix">The prefix of every key.</param>
/// <param name="ConnectTimeout">The connect timeout, unless the connection string sets <c>connectTimeout</c>.</param>
/// <param name="OperationTimeout">The sync and async timeout, unless the connection string sets <c>syncTimeout</c>/<c>asyncTimeout</c>.</param>
/// <param name="TimeProvider">The store clock.</param>
/// <param name="Faults">The fault-injection tests' hook; null outside them.</param>
internal sealed record RedisStoreOptions(
    string? ConnectionString,
    string Url,
    string KeyPrefix,
    TimeSpan ConnectTimeout,
    TimeSpan OperationTimeout,
    TimeProvider TimeProvider,
    FaultInjection? Faults = null)
{
    /// <summary>Which server answers reads of one session (see <see cref="RedisReplicaReads"/>).</summary>
    public ReadFrom ReadFrom { get; init; }

    /// <summary>How many replicas must confirm each write before it is acknowledged; 0 = none (see <see cref="RedisReplicaAcknowledgement"/>).</summary>
    public int MinReplicas { get; init; }

    /// <summary>How long a write waits for <see cref="MinReplicas"/> replicas.</summary>
    public TimeSpan ReplicaTimeout { get; init; } = TimeSpan.FromSeconds(1);
}

using System.Globalization;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Holds a write's acknowledgement until <c>MinReplicas</c> replicas confirm it: <c>WAIT</c>, or <c>WAITAOF</c> where
/// the primary has it (Redis 7.2 and later), sent after the write on the same multiplexer, so on the same physical
/// connection to the primary (WAIT counts the writes of the connection it is sent on). A connection that failed or
/// was restored in between (see <see cref="RedisConnection.Epoch"/>) could answer for none of the write's commands,
/// so that confirmation is refused. Fewer confirmations than asked, or no answer, is a
/// <see cref="ReplicationTimeoutException"/>: the primary has the write, its replicas may not.
/// </summary>
/// <remarks>
/// The wait blocks the connection it runs on: Redis answers nothing else of that connection meanwhile, and this
/// store's multiplexer sends every command to the primary on that one connection, so while replicas lag, every other
/// call of this instance to the primary waits behind it (at most the replica timeout). Redis Cluster is refused: its
/// writes spread over nodes, each with its own replicas, and a wait routed to another node than the write would
/// confirm nothing at all.
/// </remarks>
internal sealed class RedisReplicaAcknowledgement(RedisConnection connection, RedisScriptRunner runner, int database, int minReplicas, TimeSpan timeout)
{
    private static readonly Version WaitAofSince = new(7, 2);

    private readonly long _timeoutMilliseconds = (long)Math.Ceiling(timeout.TotalMilliseconds);

    /// <summary>Whether writes wait for replicas at all (<c>MinReplicas</c> &gt; 0).</summary>
    public bool Enabled => minReplicas > 0;

    /// <summary>
    /// Called before a write: refuses a cluster before anything is written, and returns the connection epoch the
    /// confirmation must find unchanged.
    /// </summary>
    public async ValueTask<int> BeginAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return 0;
        }

        if (await runner.IsClusterAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new NotSupportedException(
                "MinReplicas is set, but this Redis is a cluster: a cluster's writes go to many primaries, each with its own replicas, and the store confirms replicas only on a single primary (with replicas, or under Sentinel). Nothing was written. Set MinReplicas to 0 for Redis Cluster.");
        }

        return connection.Epoch;
    }

    /// <summary>Waits until <c>MinReplicas</c> replicas have every write this connection sent so far, or throws <see cref="ReplicationTimeoutException"/>.</summary>
    public async Task ConfirmAsync(int epoch, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        long confirmed;
        var command = "WAIT";
        try
        {
            var multiplexer = await connection.GetAsync(cancellationToken).ConfigureAwait(false);
            var db = multiplexer.GetDatabase(database);
            command = CommandFor(PrimaryVersion(multiplexer));
            if (command == "WAITAOF")
            {
                // numlocal 0: the primary's own fsync is its appendfsync policy's business (WAITAOF refuses numlocal 1
                // on a primary without AOF); the replicas are the copies that must survive the primary.
                var answer = await db.ExecuteAsync(command, [0, minReplicas, _timeoutMilliseconds], CommandFlags.DemandMaster).WaitAsync(cancellationToken).ConfigureAwait(false);
                confirmed = (long)((RedisResult[])answer!)[1];
            }
            else
            {
                confirmed = (long)await db.ExecuteAsync(command, [minReplicas, _timeoutMilliseconds], CommandFlags.DemandMaster).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        // A cancellation by StackExchange.Redis (the connection dropped the command) is a failed wait; the caller's own is not.
        catch (Exception ex) when (ex is RedisException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ReplicationTimeoutException(
                "The primary stored the write, but the wait for its replicas failed (the connection was lost or the server refused it), so it was not acknowledged: it may exist, and may be lost if the primary fails. A retry with the same message ids is safe.",
                ex);
        }

        if (connection.Epoch != epoch)
        {
            throw new ReplicationTimeoutException(
                "The Redis connection was lost or restored between the write and the wait for its replicas, so the replicas' confirmation cannot be trusted and the write was not acknowledged: it may exist. A retry with the same message ids is safe.");
        }

        if (confirmed < minReplicas)
        {
            throw new ReplicationTimeoutException(string.Create(
                CultureInfo.InvariantCulture,
                $"The primary stored the write, but only {confirmed} of the {minReplicas} replicas MinReplicas asks for confirmed it ({command}) within ReplicaTimeout ({timeout.TotalMilliseconds:0} ms), so it was not acknowledged: it may exist, and may be lost if the primary fails now. A retry with the same message ids is safe; check the replicas' link to the primary (INFO replication){(command == "WAITAOF" ? " and that they run with appendonly yes, which WAITAOF needs" : string.Empty)}."));
        }
    }

    /// <summary>
    /// The wait a primary of <paramref name="version"/> gets: <c>WAITAOF</c> from Redis 7.2 on (a replica counts once
    /// its append-only file holds the write, fsynced), <c>WAIT</c> before (a replica counts once it received and
    /// applied the write, in memory), and when the version is not known.
    /// </summary>
    public static string CommandFor(Version? version) => version >= WaitAofSince ? "WAITAOF" : "WAIT";

    // The connected primary's version, read by the multiplexer when it connected (after a failover, the new primary's).
    private static Version? PrimaryVersion(ConnectionMultiplexer multiplexer)
    {
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsConnected && !server.IsReplica)
            {
                return server.Version;
            }
        }

        return null;
    }
}

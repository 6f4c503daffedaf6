using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Runs the store's scripts and commands on its connection, mapping failures through <see cref="RedisErrors"/>: the one
/// place every part of the store reaches Redis through.
/// </summary>
internal sealed class RedisScriptRunner(RedisConnection connection, int database)
{
    // Sharded pub/sub (SPUBLISH, SSUBSCRIBE) came with Redis 7.0.
    private static readonly Version ShardedPubSubSince = new(7, 0);

    // 0 = not known yet, 1 = a single server (or a primary with replicas), 2 = Redis Cluster, 3 = Redis Cluster whose
    // servers all have sharded pub/sub.
    private int _topology;

    /// <summary>Runs a script by its SHA-1 (EVALSHA), sending its text (EVAL) only when the server answers NOSCRIPT; routed by its first key
    /// (to the primary unless <paramref name="flags"/> prefer a replica, for a script that only reads).</summary>
    public async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken, CommandFlags flags = CommandFlags.None)
    {
        // The hot path of every operation: no closure, one async frame.
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var multiplexer = await connection.GetAsync(cancellationToken).ConfigureAwait(false);
            var db = multiplexer.GetDatabase(database);
            try
            {
                var call = db.ScriptEvaluateAsync(RedisScriptHashes.Of(script), keys, values, flags);
                return await (cancellationToken.CanBeCanceled ? call.WaitAsync(cancellationToken) : call).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                // The server does not have the script (first use, restart, failover): EVAL runs and caches it there.
                // NOSCRIPT means nothing ran, so running it now cannot apply anything twice.
                var call = db.ScriptEvaluateAsync(script, keys, values, flags);
                return await (cancellationToken.CanBeCanceled ? call.WaitAsync(cancellationToken) : call).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw CanceledByTheConnection(ex);
        }
        catch (Exception ex) when (RedisErrors.Translate(ex, connection.AuthenticationFailing) is { } translated)
        {
            throw translated;
        }
    }

    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var multiplexer = await connection.GetAsync(cancellationToken).ConfigureAwait(false);
            return await operation(multiplexer.GetDatabase(database)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw CanceledByTheConnection(ex);
        }
        catch (Exception ex) when (RedisErrors.Translate(ex, connection.AuthenticationFailing) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Whether the deployment is a Redis Cluster (or a proxy of one), where one script may only touch keys of one hash
    /// slot. Known once a server has answered: the first call waits for a PING (so a create on a single node never
    /// takes the cluster path only because the connection was not up yet, which would mix the two ways of counting).
    /// </summary>
    public async ValueTask<bool> IsClusterAsync(CancellationToken cancellationToken)
    {
        var known = Volatile.Read(ref _topology);
        if (known != 0)
        {
            return known >= 2;
        }

        await RunAsync(db => db.PingAsync(), cancellationToken).ConfigureAwait(false);
        var multiplexer = await connection.GetAsync(cancellationToken).ConfigureAwait(false);
        var connected = false;
        var servers = multiplexer.GetServers();
        foreach (var server in servers)
        {
            // A proxy in front of a cluster has the same one-slot rule as the cluster itself.
            if (server.ServerType is ServerType.Cluster or ServerType.Twemproxy or ServerType.Envoyproxy)
            {
                // Only a cluster proper: a proxy may not pass SPUBLISH from a script or SSUBSCRIBE on.
                var sharded = Array.TrueForAll(servers, s => s.ServerType == ServerType.Cluster && s.Version >= ShardedPubSubSince);
                Volatile.Write(ref _topology, sharded ? 3 : 2);
                return true;
            }

            connected |= server.IsConnected;
        }

        if (connected)
        {
            Volatile.Write(ref _topology, 1);
            return false;
        }

        // Answered, yet no server shows as connected (it dropped right after): guessing could mix the two ways of
        // counting sessions, so the call fails as any call on a lost connection does.
        throw new StoreUnavailableException("The Redis connection was lost before the store could tell a single server from a cluster; retry the call.");
    }

    /// <summary>
    /// Whether the feed's hints go by sharded pub/sub (<c>SPUBLISH</c>, <c>SSUBSCRIBE</c>): on a Redis Cluster of 7.0 or
    /// later, where a classic <c>PUBLISH</c> is broadcast to every node of the cluster and a sharded one stays on the
    /// shard of its channel's slot. Elsewhere classic pub/sub, which every Redis has. Known with
    /// <see cref="IsClusterAsync"/>.
    /// </summary>
    public async ValueTask<bool> ShardedHintsAsync(CancellationToken cancellationToken) =>
        await IsClusterAsync(cancellationToken).ConfigureAwait(false) && Volatile.Read(ref _topology) == 3;

    /// <summary>The feed hint's mode as the scripts take it (see <see cref="FeedScripts.HintFunction"/>).</summary>
    public async ValueTask<RedisValue> HintModeAsync(CancellationToken cancellationToken) =>
        await ShardedHintsAsync(cancellationToken).ConfigureAwait(false) ? "s" : "p";

    /// <summary>
    /// A call StackExchange.Redis canceled itself, not the caller (the command was dropped while the connection was
    /// reset or its backlog gave up): the backend was unavailable, and the command may still have run on the server.
    /// </summary>
    private static StoreUnavailableException CanceledByTheConnection(OperationCanceledException ex) => new(
        "The Redis connection dropped the call before it was answered (a reconnect or a backlog timeout); it may have run on the server, and a retry with the same message ids is safe.",
        ex);
}

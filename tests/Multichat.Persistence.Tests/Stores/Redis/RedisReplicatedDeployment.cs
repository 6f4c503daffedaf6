using FluentAssertions;
using System.Globalization;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A primary, its replicas (<c>--replicaof</c>) and one Sentinel on loopback ports, started by the tests and stopped
/// by PID. Started only once every replica reports <c>master_link_status:up</c> and the Sentinel knows them all, so a
/// test begins with replication working. A replica can be cut off from the primary and attached again
/// (<see cref="DetachAsync"/>, <see cref="AttachAsync"/>), which makes it lag deterministically while it keeps
/// answering reads as a replica.
/// </summary>
public sealed class RedisReplicatedDeployment : IAsyncDisposable
{
    public const string ServiceName = "multichat";

    // Diskless full syncs start at once instead of after the default 5 s, on every node (any may become the primary).
    private static readonly string[] NodeArguments = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--appendonly", "no"];

    private readonly List<RedisServerProcess> _replicas = [];

    private RedisReplicatedDeployment(RedisServerProcess primary) => Primary = primary;

    /// <summary>The node that was the primary at start (after a failover, see <see cref="CurrentPrimaryPortAsync"/>).</summary>
    public RedisServerProcess Primary { get; }

    public IReadOnlyList<RedisServerProcess> Replicas => _replicas;

    public RedisServerProcess Sentinel { get; private set; } = null!;

    /// <summary>Every process of the deployment, for a fixture to own.</summary>
    public IEnumerable<RedisServerProcess> Processes => [Primary, .. _replicas, Sentinel];

    /// <summary>A configuration string with every node's end point (StackExchange.Redis tells the primary by its role).</summary>
    public string ConnectionString => string.Join(',', new[] { Primary }.Concat(_replicas).Select(n => n.EndPoint));

    /// <summary>A configuration string that finds the primary through the Sentinel.</summary>
    public string SentinelConnectionString => $"{Sentinel.EndPoint},serviceName={ServiceName}";

    public static async Task<RedisReplicatedDeployment> StartAsync(int replicas)
    {
        var deployment = new RedisReplicatedDeployment(await RedisServerProcess.StartAsync(NodeArguments));
        try
        {
            for (var i = 0; i < replicas; i++)
            {
                deployment._replicas.Add(await RedisServerProcess.StartAsync(
                    [.. NodeArguments, "--replicaof", "127.0.0.1", deployment.Primary.Port.ToString(CultureInfo.InvariantCulture)]));
            }

            foreach (var replica in deployment._replicas)
            {
                await WaitForLinkAsync(replica);
            }

            await WaitForReplicationAsync(deployment.Primary, replicas);

            deployment.Sentinel = await RedisServerProcess.StartSentinelAsync(ServiceName, deployment.Primary);
            await deployment.WaitForSentinelAsync();
            return deployment;
        }
        catch
        {
            await deployment.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="replica"/> reports its link to its primary up (INFO replication).</summary>
    public static async Task WaitForLinkAsync(RedisServerProcess replica)
    {
        await WaitUntilAsync(
            async () => (await replica.CliAsync("info", "replication")).Contains("master_link_status:up", StringComparison.Ordinal),
            $"the replica on port {replica.Port} to report master_link_status:up");
    }

    /// <summary>Cuts <paramref name="replica"/> off its primary: it replicates from a port nobody listens on, so it
    /// stays a replica (serving its now stale data) and receives no writes until <see cref="AttachAsync"/>.</summary>
    public static async Task DetachAsync(RedisServerProcess replica)
    {
        var nowhere = RedisServerProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        (await replica.CliAsync("replicaof", "127.0.0.1", nowhere)).Should().Contain("OK");
    }

    /// <summary>Attaches <paramref name="replica"/> to <paramref name="primary"/> again and waits until it caught up.</summary>
    public static async Task AttachAsync(RedisServerProcess replica, RedisServerProcess primary)
    {
        (await replica.CliAsync("replicaof", "127.0.0.1", primary.Port.ToString(CultureInfo.InvariantCulture))).Should().Contain("OK");
        await WaitForLinkAsync(replica);
        await WaitForReplicationAsync(primary, 1);
    }

    /// <summary>
    /// Waits until <paramref name="primary"/> streams writes to <paramref name="replicas"/> replicas: a probe write and a
    /// WAIT on the same connection. A replica says <c>master_link_status:up</c> before its primary streams to it (after a
    /// diskless sync the primary waits for the replica's first acknowledgement, up to a second), and a WAIT of the
    /// store in between would count no replica.
    /// </summary>
    public static async Task WaitForReplicationAsync(RedisServerProcess primary, int replicas)
    {
        var options = new ConfigurationOptions { EndPoints = { primary.EndPoint }, AbortOnConnectFail = true, AsyncTimeout = 15_000, SyncTimeout = 15_000 };
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var db = connection.GetDatabase();
        await db.StringSetAsync("replication-probe", "1");
        var confirmed = (long)await db.ExecuteAsync("WAIT", replicas, 10_000);
        await db.KeyDeleteAsync("replication-probe");
        if (confirmed < replicas)
        {
            throw new InvalidOperationException($"Only {confirmed} of {replicas} replicas of the primary on port {primary.Port} confirmed a write within 10 s.");
        }
    }

    /// <summary>The port of the node the Sentinel names as the primary now.</summary>
    public async Task<int> CurrentPrimaryPortAsync()
    {
        var answer = (await Sentinel.CliAsync("sentinel", "get-master-addr-by-name", ServiceName)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return answer.Length >= 2 && int.TryParse(answer[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 0;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { Sentinel }.Concat(_replicas).Append(Primary))
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> (every 50 ms, at most 20 s): the processes report state only when asked.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Timed out after 20 s waiting for {what}.");
            }

            await Task.Delay(50);
        }
    }

    // The Sentinel learns the replicas from the primary's INFO; a failover before that would have nobody to promote.
    private async Task WaitForSentinelAsync()
    {
        await WaitUntilAsync(
            async () =>
            {
                var lines = (await Sentinel.CliAsync("sentinel", "replicas", ServiceName)).Split('\n', StringSplitOptions.TrimEntries);
                var ready = 0;
                for (var i = 0; i + 1 < lines.Length; i++)
                {
                    ready += lines[i] == "flags" && lines[i + 1] == "slave" ? 1 : 0;
                }

                return ready == _replicas.Count;
            },
            "the Sentinel to know every replica");
    }
}

using System.Diagnostics;
using System.Globalization;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A private 3-primary Redis Cluster whose nodes write every change to their append-only file before answering
/// (<c>appendfsync always</c>), so a node killed with SIGKILL and started again on its port and folder (its
/// <c>nodes.conf</c> too) comes back with everything it acknowledged. Separate from <see cref="RedisClusterFixture"/>,
/// whose nodes keep no data across a restart and are shared by other tests.
/// </summary>
public sealed class RedisDurableCluster : IAsyncDisposable
{
    private readonly List<RedisServerProcess> _nodes = [];

    private RedisDurableCluster()
    {
    }

    public IReadOnlyList<RedisServerProcess> Nodes => _nodes;

    public string ConnectionString => string.Join(',', _nodes.Select(n => n.EndPoint));

    public static async Task<RedisDurableCluster> StartAsync()
    {
        var cluster = new RedisDurableCluster();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                cluster._nodes.Add(await RedisServerProcess.StartAsync(
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000", "--appendonly", "yes", "--appendfsync", "always"));
            }

            var output = await RedisServerProcess.RunCliAsync(["--cluster", "create", .. cluster._nodes.Select(n => n.EndPoint), "--cluster-replicas", "0", "--cluster-yes"]);
            if (!output.Contains("All 16384 slots covered", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("redis-cli --cluster create failed: " + output);
            }

            await cluster.WaitUntilOkAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until every node says cluster_state:ok (after the create, or after a node came back).</summary>
    public async Task WaitUntilOkAsync()
    {
        var deadline = Stopwatch.StartNew();
        foreach (var node in _nodes)
        {
            while (!(await node.CliAsync("cluster", "info")).Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The cluster node on port {node.Port} did not reach cluster_state:ok."));
                }

                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}

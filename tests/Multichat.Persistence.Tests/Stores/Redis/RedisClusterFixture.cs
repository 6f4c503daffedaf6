using System.Globalization;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A private 3-primary Redis Cluster on loopback ports (three <c>redis-server --cluster-enabled yes</c> joined by
/// <c>redis-cli --cluster create</c>), or the cluster <c>MULTICHAT_REDIS_CLUSTER</c> names.
/// </summary>
public sealed class RedisClusterFixture : RedisFixture
{
    public const string EnvironmentVariable = "MULTICHAT_REDIS_CLUSTER";

    protected override async Task StartAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            ConnectionString = configured;
            return;
        }

        if (RedisServerProcess.Executable is null || RedisServerProcess.CliExecutable is null)
        {
            UnavailableReason = $"redis-server and redis-cli are not installed and {EnvironmentVariable} is not set.";
            return;
        }

        var nodes = new List<RedisServerProcess>();
        for (var i = 0; i < 3; i++)
        {
            nodes.Add(await StartServerAsync("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000", "--appendonly", "no"));
        }

        var output = await RedisServerProcess.RunCliAsync(
            ["--cluster", "create", .. nodes.Select(n => n.EndPoint), "--cluster-replicas", "0", "--cluster-yes"]);
        if (!output.Contains("All 16384 slots covered", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + output);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var node in nodes)
        {
            while (!(await node.CliAsync("cluster", "info")).Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The cluster node on port {node.Port} did not reach cluster_state:ok."));
                }

                await Task.Delay(100);
            }
        }

        ConnectionString = string.Join(',', nodes.Select(n => n.EndPoint));
    }
}

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A primary with one replica and a Sentinel (<see cref="RedisReplicatedDeployment"/>) for the run; the connection
/// string lists both nodes. Tests that cut the replica off attach it again before they end.
/// </summary>
public sealed class RedisReplicatedFixture : RedisFixture
{
    public RedisReplicatedDeployment Deployment { get; private set; } = null!;

    public RedisServerProcess Primary => Deployment.Primary;

    public RedisServerProcess Replica => Deployment.Replicas[0];

    protected override async Task StartAsync()
    {
        if (RedisServerProcess.Executable is null || RedisServerProcess.CliExecutable is null)
        {
            UnavailableReason = "redis-server and redis-cli are not installed; the replication tests start a primary, a replica and a Sentinel of their own.";
            return;
        }

        Deployment = await RedisReplicatedDeployment.StartAsync(replicas: 1);
        foreach (var process in Deployment.Processes)
        {
            Own(process);
        }

        ConnectionString = Deployment.ConnectionString;
    }
}

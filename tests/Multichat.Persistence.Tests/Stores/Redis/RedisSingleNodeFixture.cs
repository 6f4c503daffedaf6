namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// One private redis-server for the run, or the server <c>MULTICHAT_REDIS</c> (a StackExchange.Redis configuration
/// string) names; tests keep apart by key prefix.
/// </summary>
public sealed class RedisSingleNodeFixture : RedisFixture
{
    public const string EnvironmentVariable = "MULTICHAT_REDIS";

    protected override async Task StartAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            ConnectionString = configured;
            return;
        }

        if (RedisServerProcess.Executable is null)
        {
            UnavailableReason = $"redis-server is not installed and {EnvironmentVariable} is not set; install redis-server or point {EnvironmentVariable} at a server.";
            return;
        }

        var server = await StartServerAsync();
        ConnectionString = server.EndPoint;
    }
}

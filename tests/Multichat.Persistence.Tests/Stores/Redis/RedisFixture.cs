using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A Redis deployment the tests share (started once per run) and an admin connection to it. When none can be had,
/// <see cref="Require"/> skips the test with the reason locally, and fails it when CI=true, so CI never passes by
/// skipping.
/// </summary>
public abstract class RedisFixture : IAsyncLifetime
{
    private readonly List<RedisServerProcess> _servers = [];

    /// <summary>A StackExchange.Redis configuration string for the deployment.</summary>
    public string ConnectionString { get; protected set; } = string.Empty;

    /// <summary>Why no deployment is available, or <see langword="null"/> when one is.</summary>
    public string? UnavailableReason { get; protected set; }

    /// <summary>An admin connection (allowAdmin) to the deployment.</summary>
    public ConnectionMultiplexer Admin { get; private set; } = null!;

    protected IReadOnlyList<RedisServerProcess> Servers => _servers;

    /// <summary>Skips (locally) or fails (CI=true) the calling test when no deployment is available.</summary>
    public void Require() => RequireAvailable(UnavailableReason);

    public static void RequireAvailable(string? unavailableReason)
    {
        if (unavailableReason is null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("CI=true and no Redis is available: " + unavailableReason);
        }

        Assert.Skip(unavailableReason);
    }

    public async ValueTask InitializeAsync()
    {
        try
        {
            await StartAsync();
            if (UnavailableReason is not null)
            {
                return;
            }

            var options = ConfigurationOptions.Parse(ConnectionString);
            options.AllowAdmin = true;
            options.AbortOnConnectFail = true;
            Admin = await ConnectionMultiplexer.ConnectAsync(options);
            await Admin.GetDatabase().PingAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or RedisException or IOException)
        {
            UnavailableReason = $"{GetType().Name}: no Redis could be started or reached ({ex.Message}).";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Admin is not null)
        {
            await Admin.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Deletes every key that starts with <paramref name="prefix"/> on every primary.</summary>
    public async Task DeleteKeysAsync(string prefix)
    {
        if (UnavailableReason is not null)
        {
            return;
        }

        foreach (var server in Admin.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
            {
                continue;
            }

            var keys = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
            {
                keys.Add(key);
            }

            foreach (var key in keys)
            {
                await Admin.GetDatabase().KeyDeleteAsync(key);
            }
        }
    }

    /// <summary>The total number of commands the deployment's primaries processed so far (INFO commandstats).</summary>
    public async Task<long> CommandCountAsync() => (await CommandStatsAsync()).Values.Sum();

    /// <summary>Calls per command name (lower case, e.g. "evalsha") summed over the primaries.</summary>
    public async Task<Dictionary<string, long>> CommandStatsAsync()
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var server in Admin.GetServers())
        {
            if (server.IsReplica)
            {
                continue;
            }

            foreach (var group in await server.InfoAsync("commandstats"))
            {
                foreach (var (key, value) in group)
                {
                    var calls = value.Split(',')[0];
                    if (key.StartsWith("cmdstat_", StringComparison.Ordinal) && calls.StartsWith("calls=", StringComparison.Ordinal))
                    {
                        var name = key["cmdstat_".Length..];
                        result[name] = result.GetValueOrDefault(name) + long.Parse(calls["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Sets <see cref="ConnectionString"/> (or <see cref="UnavailableReason"/>), starting servers as needed.</summary>
    protected abstract Task StartAsync();

    protected async Task<RedisServerProcess> StartServerAsync(params string[] arguments)
    {
        var server = await RedisServerProcess.StartAsync(arguments);
        _servers.Add(server);
        return server;
    }

    /// <summary>Makes the fixture stop <paramref name="server"/> (by its PID) when it is disposed.</summary>
    protected void Own(RedisServerProcess server) => _servers.Add(server);
}

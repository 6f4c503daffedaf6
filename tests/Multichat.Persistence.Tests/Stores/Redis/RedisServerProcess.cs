using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A private redis-server on a loopback port, in its own temporary folder, started and stopped by these tests (by its
/// own PID, nothing else). It can be killed (SIGKILL) and started again on the same port and folder, which keeps
/// its append-only file when it was started with one. A Sentinel (<see cref="StartSentinelAsync"/>) is the same
/// redis-server in sentinel mode, with its configuration file in its folder.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string[] _extraArguments;
    private readonly string? _sentinelConfiguration;
    private Process? _process;

    private RedisServerProcess(int port, string directory, string[] extraArguments, string? sentinelConfiguration = null)
    {
        Port = port;
        Directory = directory;
        _extraArguments = extraArguments;
        _sentinelConfiguration = sentinelConfiguration;
    }

    /// <summary>The redis-server executable, or <see langword="null"/> when none is installed.</summary>
    public static string? Executable { get; } = Find("redis-server");

    /// <summary>The redis-cli executable, or <see langword="null"/> when none is installed.</summary>
    public static string? CliExecutable { get; } = Find("redis-cli");

    public int Port { get; }

    public string Directory { get; }

    public string EndPoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a server; <paramref name="extraArguments"/> are further redis-server options (e.g. --appendonly yes).</summary>
    public static async Task<RedisServerProcess> StartAsync(params string[] extraArguments) =>
        await StartAsync(FreePort(), extraArguments).ConfigureAwait(false);

    public static async Task<RedisServerProcess> StartAsync(int port, params string[] extraArguments)
    {
        var server = new RedisServerProcess(port, NewDirectory(), extraArguments);
        await server.RestartAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>
    /// Starts a Sentinel (<c>redis-server &lt;conf&gt; --sentinel</c>) that monitors <paramref name="primary"/> as
    /// <paramref name="serviceName"/> with a quorum of 1 and short failure detection, so a killed primary is replaced
    /// within a few seconds. The configuration file is written to the Sentinel's own temporary folder (Sentinel
    /// rewrites it as it learns the deployment).
    /// </summary>
    public static async Task<RedisServerProcess> StartSentinelAsync(string serviceName, RedisServerProcess primary)
    {
        var directory = NewDirectory();
        var configuration = Path.Combine(directory, "sentinel.conf");
        await File.WriteAllTextAsync(configuration, string.Create(CultureInfo.InvariantCulture, $"""
            sentinel monitor {serviceName} 127.0.0.1 {primary.Port} 1
            sentinel down-after-milliseconds {serviceName} 1000
            sentinel failover-timeout {serviceName} 5000
            sentinel parallel-syncs {serviceName} 1

            """)).ConfigureAwait(false);
        var sentinel = new RedisServerProcess(FreePort(), directory, [], configuration);
        await sentinel.RestartAsync().ConfigureAwait(false);
        return sentinel;
    }

    /// <summary>A free loopback port whose cluster bus port (+10000) is free too.</summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port + 10000 <= 65535 && IsFree(port + 10000))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No free loopback port pair was found.");
    }

    /// <summary>Starts the server (again) on its port and folder and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo(Executable!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory,
        };
        string[] arguments = _sentinelConfiguration is { } configuration
            ? [configuration, "--sentinel", "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory, "--daemonize", "no", "--logfile", ""]
            : ["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory, "--save", "", "--daemonize", "no", "--logfile", ""];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var argument in _extraArguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on port {Port}.");
            }

            if (await PingAsync().ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"redis-server on port {Port} did not answer within 20 s.");
    }

    /// <summary>Kills the server at once (SIGKILL): nothing is flushed that was not flushed already.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Exited already.
            }

            process.WaitForExit();
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Runs redis-cli against this server and returns what it printed.</summary>
    public Task<string> CliAsync(params string[] arguments) => RunCliAsync(["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), .. arguments]);

    public static async Task<string> RunCliAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(CliExecutable ?? throw new InvalidOperationException("redis-cli is not installed."))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        return await output.ConfigureAwait(false) + await error.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray()).ConfigureAwait(false);
            var buffer = new byte[64];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            // A server started with --requirepass answers an unauthenticated PING with NOAUTH: it is up all the same.
            var answer = Encoding.ASCII.GetString(buffer, 0, read);
            return answer.StartsWith("+PONG", StringComparison.Ordinal) || answer.StartsWith("-NOAUTH", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string NewDirectory()
    {
        if (Executable is null)
        {
            throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server).");
        }

        var directory = Path.Combine(Path.GetTempPath(), "multichat-redis-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string? Find(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

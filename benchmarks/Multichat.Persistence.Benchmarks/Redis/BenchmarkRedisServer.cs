using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Multichat.Persistence.Benchmarks.Redis;

/// <summary>
/// The Redis a benchmark runs against: the one <c>MULTICHAT_REDIS</c> names, or a private redis-server (no
/// persistence) on a free loopback port, stopped by its own PID when the benchmark ends.
/// </summary>
internal sealed class BenchmarkRedisServer : IDisposable
{
    private readonly Process? _process;
    private readonly string? _directory;

    private BenchmarkRedisServer(string connectionString, Process? process, string? directory)
    {
        ConnectionString = connectionString;
        _process = process;
        _directory = directory;
    }

    public string ConnectionString { get; }

    public static BenchmarkRedisServer Start()
    {
        if (Environment.GetEnvironmentVariable("MULTICHAT_REDIS") is { Length: > 0 } configured)
        {
            return new BenchmarkRedisServer(configured, null, null);
        }

        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var directory = Path.Combine(Path.GetTempPath(), "multichat-bench-redis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start; install it or set MULTICHAT_REDIS.");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException)
            {
                Thread.Sleep(25);
            }
        }

        return new BenchmarkRedisServer(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"), process, directory);
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

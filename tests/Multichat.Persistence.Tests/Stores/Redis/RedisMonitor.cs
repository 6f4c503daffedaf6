using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// Records the commands clients send to one Redis server while an action runs, through <c>redis-cli monitor</c>.
/// Commands a Lua script runs inside the server are marked "lua" by MONITOR and left out, so what remains is what
/// crossed the network: the round trips.
/// </summary>
public static class RedisMonitor
{
    public static async Task<List<string>> ClientCommandsAsync(ConnectionMultiplexer admin, Func<Task> action)
    {
        // The admin connection is connected already, so its only command here is the closing ECHO.
        var endPoint = admin.GetEndPoints()[0];
        var (host, port) = endPoint switch
        {
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            DnsEndPoint dns => (dns.Host, dns.Port),
            _ => throw new InvalidOperationException("Unknown end point " + endPoint),
        };
        var info = new ProcessStartInfo(RedisServerProcess.CliExecutable ?? throw new InvalidOperationException("redis-cli is not installed."))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-h", host, "-p", port.ToString(CultureInfo.InvariantCulture), "monitor" })
        {
            info.ArgumentList.Add(argument);
        }

        var sentinel = "monitor-end-" + Guid.NewGuid().ToString("N");
        var lines = new List<string>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data == "OK")
            {
                started.TrySetResult();
            }
            else if (e.Data.Contains(sentinel, StringComparison.Ordinal))
            {
                // The admin connection's own commands (the ECHO, a SELECT before it) are not what was measured.
                var client = e.Data.Split(' ')[2];
                lock (lines)
                {
                    lines.RemoveAll(line => line.Split(' ')[2] == client);
                }

                ended.TrySetResult();
            }
            else if (!e.Data.Contains(" lua]", StringComparison.Ordinal))
            {
                lock (lines)
                {
                    lines.Add(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await action();
            await admin.GetDatabase().ExecuteAsync("ECHO", sentinel);
            await ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        lock (lines)
        {
            // StackExchange.Redis checks its connections now and then (INFO, ECHO, PING, CLUSTER NODES …), and one
            // such check may fall into the window. A few are left out; more would be the store's doing (say a PING
            // per call) and are kept, so the count fails.
            var maintenance = lines.Count(IsMaintenance);
            return maintenance > 2 ? lines : [.. lines.Where(line => !IsMaintenance(line))];
        }
    }

    private static readonly string[] MaintenanceCommands = ["\"INFO\"", "\"ECHO\"", "\"PING\"", "\"CLUSTER\"", "\"CONFIG\"", "\"CLIENT\"", "\"SUBSCRIBE\"", "\"GET\" \"__Booksleeve_TieBreak\""];

    private static bool IsMaintenance(string line)
    {
        var command = line.Split(' ', 4).ElementAtOrDefault(3) ?? string.Empty;
        return MaintenanceCommands.Any(m => command.StartsWith(m, StringComparison.OrdinalIgnoreCase));
    }
}

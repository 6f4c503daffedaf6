using System.Diagnostics;
using System.Globalization;
using Multichat.Persistence.Benchmarks.Redis;

namespace Multichat.Persistence.Benchmarks.Feed;

/// <summary>
/// How soon a watcher in one process receives a message another process appended (issue 14's goal: median and p99 at
/// most 5 ms on Redis and Memory, 50 ms on Json and Sqlite), and what an idle watcher costs. Per store, a writer
/// process (this program in its <c>feed-writer</c> mode) appends one message every <c>interval</c> and prints, for each,
/// the monotonic clock (<see cref="Stopwatch.GetTimestamp"/>, one clock for every process on the machine) right after
/// the append was acknowledged; this process watches the session and notes the clock as each message arrives. Memory
/// cannot be shared by two processes: its writer is a task in this process. Then the watcher sits idle for a while and
/// the process's CPU time over it is compared with the same wait without a watcher.
/// <c>dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- feed-delay [messages] [intervalMs] [idleSeconds]</c>
/// </summary>
internal static class FeedDelayRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
        var interval = TimeSpan.FromMilliseconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10);
        var idle = TimeSpan.FromSeconds(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 10);
        Console.WriteLine($"{count} messages, one every {interval.TotalMilliseconds} ms, from another process (Memory: another task); idle watcher measured over {idle.TotalSeconds} s");
        Console.WriteLine("| store | median delay | p99 delay | max | idle watcher CPU | idle without watcher |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        using var redis = BenchmarkRedisServer.Start();
        foreach (var store in new[] { StorageType.Memory, StorageType.Json, StorageType.Sqlite, StorageType.Redis })
        {
            var root = Path.Combine(Path.GetTempPath(), "multichat-bench-feed", Guid.NewGuid().ToString("N")[..8]);
            var location = store == StorageType.Redis ? redis.ConnectionString : root;
            try
            {
                var (delays, idleCpu, baselineCpu) = await MeasureAsync(store, location, count, interval, idle);
                delays.Sort();
                Console.WriteLine(
                    $"| {store} | {Ms(delays[delays.Count / 2])} | {Ms(delays[(int)(delays.Count * 0.99)])} | {Ms(delays[^1])} | {idleCpu:P2} of a core | {baselineCpu:P2} |");
            }
            finally
            {
                if (Directory.Exists(root))
                {
                    Directory.Delete(root, recursive: true);
                }
            }
        }

        return 0;
    }

    /// <summary>The writer process: <c>feed-writer &lt;store&gt; &lt;location&gt; &lt;session&gt; &lt;count&gt; &lt;intervalMs&gt;</c>.</summary>
    public static async Task<int> WriteAsync(string[] args)
    {
        var store = Enum.Parse<StorageType>(args[1]);
        var (sessionId, count, interval) = (args[3], int.Parse(args[4], CultureInfo.InvariantCulture), int.Parse(args[5], CultureInfo.InvariantCulture));
        await using var persistence = SessionPersistence.Create(Options(store, args[2]));
        await WriteAsync(persistence, sessionId, count, TimeSpan.FromMilliseconds(interval), (sequence, at) =>
        {
            Console.Out.WriteLine($"ack {sequence} {at}");
            Console.Out.Flush();
        });
        return 0;
    }

    private static async Task<(List<long> Delays, double IdleCpu, double BaselineCpu)> MeasureAsync(
        StorageType store, string location, int count, TimeSpan interval, TimeSpan idle)
    {
        await using var persistence = SessionPersistence.Create(Options(store, location));
        var sessionId = $"feed-{Guid.NewGuid():N}"[..16];
        await persistence.CreateSessionAsync(sessionId, ["writer", "watcher"]);
        var acknowledged = new long[count + 1];
        var received = new long[count + 1];

        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var watching = Task.Run(async () =>
        {
            await foreach (var message in persistence.WatchMessagesAsync(sessionId, cancellationToken: stop.Token))
            {
                received[message.Sequence] = Stopwatch.GetTimestamp();
                if (message.Sequence == count)
                {
                    return;
                }
            }
        });

        // Let the watcher start listening before the first append.
        await Task.Delay(200);
        if (store == StorageType.Memory)
        {
            await WriteAsync(persistence, sessionId, count, interval, (sequence, at) => acknowledged[sequence] = at);
        }
        else
        {
            using var writer = StartWriter(store, location, sessionId, count, interval);
            while (await writer.StandardOutput.ReadLineAsync() is { } line)
            {
                var parts = line.Split(' ');
                if (parts is ["ack", var sequence, var at])
                {
                    acknowledged[long.Parse(sequence, CultureInfo.InvariantCulture)] = long.Parse(at, CultureInfo.InvariantCulture);
                }
            }

            await writer.WaitForExitAsync();
        }

        await watching;
        var delays = Enumerable.Range(1, count).Select(i => received[i] - acknowledged[i]).ToList();
        var idleCpu = await IdleCpuAsync(persistence, sessionId, idle, watch: true);
        var baselineCpu = await IdleCpuAsync(persistence, sessionId, idle, watch: false);
        return (delays, idleCpu, baselineCpu);
    }

    /// <summary>This process's CPU time over <paramref name="idle"/> as a share of one core, with one watcher waiting
    /// (or none), nothing being written.</summary>
    private static async Task<double> IdleCpuAsync(SessionPersistence persistence, string sessionId, TimeSpan idle, bool watch)
    {
        using var stop = new CancellationTokenSource();
        var last = (await persistence.GetSessionAsync(sessionId))!.LastSequence;
        var watcher = watch
            ? Task.Run(async () =>
            {
                try
                {
                    await foreach (var _ in persistence.WatchMessagesAsync(sessionId, last, stop.Token))
                    {
                    }
                }
                catch (OperationCanceledException)
                {
                }
            })
            : Task.CompletedTask;
        await Task.Delay(500);
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(idle);
        process.Refresh();
        var used = process.TotalProcessorTime - cpu;
        var elapsed = Stopwatch.GetElapsedTime(started);
        await stop.CancelAsync();
        await watcher;
        return used / elapsed;
    }

    private static async Task WriteAsync(SessionPersistence persistence, string sessionId, int count, TimeSpan interval, Action<long, long> acknowledged)
    {
        for (var i = 1; i <= count; i++)
        {
            var stored = await persistence.AddMessageAsync(
                new ChatMessage { Id = $"m-{i}", SessionId = sessionId, Sender = "writer", Recipient = "watcher", Content = $"message {i}: the next step of the plan, with the test command." });
            acknowledged(stored.Sequence, Stopwatch.GetTimestamp());
            await Task.Delay(interval);
        }
    }

    private static Process StartWriter(StorageType store, string location, string sessionId, int count, TimeSpan interval)
    {
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(FeedDelayRun).Assembly.Location);
        }

        foreach (var argument in new[] { "feed-writer", store.ToString(), location, sessionId, count.ToString(CultureInfo.InvariantCulture), ((int)interval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }

    private static SessionPersistenceOptions Options(StorageType store, string location) => store == StorageType.Redis
        ? new() { StorageType = store, ConnectionString = location, RedisKeyPrefix = "bench-feed:" }
        : new() { StorageType = store, StoragePath = location };

    private static string Ms(long ticks) => $"{ticks * 1000.0 / Stopwatch.Frequency:F2} ms";
}

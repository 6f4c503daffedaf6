using System.Diagnostics;
using System.Globalization;
using Multichat.Persistence.Benchmarks.Redis;

namespace Multichat.Persistence.Benchmarks.Lifecycle;

/// <summary>
/// Backup and restore throughput and peak memory at scale (issue #11: constant memory), outside BenchmarkDotNet
/// because the figure that matters is a whole process's peak RSS while it backs up or restores, and one run of
/// 1,000,000 messages takes seconds. Each step runs in a fresh child process that reports its elapsed time and its
/// kernel-measured peak RSS (VmHWM); the seeding runs in its own process so it does not count.
///   dotnet run -c Release --project benchmarks/Multichat.Persistence.Benchmarks -- backup-restore [--stores json,sqlite,redis] [--shapes 1x1000000,10000x100]
/// </summary>
internal static class BackupRestoreRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 1 && args[1] == "step")
        {
            return await StepAsync(args[2], args[3], args[4], args[5], int.Parse(args[6], CultureInfo.InvariantCulture), int.Parse(args[7], CultureInfo.InvariantCulture));
        }

        var stores = Option(args, "--stores", "json,sqlite,redis").Split(',');
        var shapes = Option(args, "--shapes", "1x1000000,10000x100").Split(',');
        using var redis = stores.Contains("redis") ? BenchmarkRedisServer.Start() : null;
        Console.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, load {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("| store | sessions × messages | backup msg/s | backup peak RSS | archive | restore msg/s | restore peak RSS |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var store in stores)
        {
            foreach (var shape in shapes)
            {
                var parts = shape.Split('x');
                var (sessions, perSession) = (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
                var work = Path.Combine(Path.GetTempPath(), "multichat-bench-lifecycle-" + Guid.NewGuid().ToString("N")[..8]);
                Directory.CreateDirectory(work);
                try
                {
                    var source = Location(store, Path.Combine(work, "source"), redis, "src");
                    var target = Location(store, Path.Combine(work, "target"), redis, "dst");
                    var archive = Path.Combine(work, "backup.mcbak");
                    await ChildAsync("seed", store, source, archive, sessions, perSession);
                    var backup = await ChildAsync("backup", store, source, archive, sessions, perSession);
                    var restore = await ChildAsync("restore", store, target, archive, sessions, perSession);
                    double total = (long)sessions * perSession;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {store} | {sessions:N0} × {perSession:N0} | {total / backup.Seconds:N0} | {backup.PeakMb:N0} MB | {new FileInfo(archive).Length / 1048576.0:N1} MB | {total / restore.Seconds:N0} | {restore.PeakMb:N0} MB |"));
                }
                finally
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }

        return 0;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    /// <summary>A store location as "type|where|prefix" for the child.</summary>
    private static string Location(string store, string folder, BenchmarkRedisServer? redis, string prefix) =>
        store == "redis" ? $"{redis!.ConnectionString}|bench-{prefix}-{Guid.NewGuid():N}:" : folder;

    private static async Task<(double Seconds, double PeakMb)> ChildAsync(string step, string store, string location, string archive, int sessions, int perSession)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { typeof(BackupRestoreRun).Assembly.Location, "backup-restore", "step", step, store, location, archive, sessions.ToString(CultureInfo.InvariantCulture), perSession.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        if (Environment.ProcessPath!.EndsWith(Path.GetFileNameWithoutExtension(typeof(BackupRestoreRun).Assembly.Location), StringComparison.Ordinal))
        {
            info.ArgumentList.RemoveAt(0); // the apphost runs the assembly itself
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The {step} step failed ({process.ExitCode}): {output}");
        }

        var fields = output.Trim().Split('\n')[^1].Split(' ');
        return (double.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture) / 1024);
    }

    /// <summary>One step in this (child) process; prints "seconds peakRssKiB".</summary>
    private static async Task<int> StepAsync(string step, string store, string location, string archive, int sessions, int perSession)
    {
        var options = new SessionPersistenceOptions
        {
            StorageType = Enum.Parse<StorageType>(store, ignoreCase: true),
            MaxBatchSize = 1000,
        };
        if (options.StorageType == StorageType.Redis)
        {
            var parts = location.Split('|');
            (options.ConnectionString, options.RedisKeyPrefix) = (parts[0], parts[1]);
        }
        else
        {
            options.StoragePath = location;
        }

        await using var persistence = SessionPersistence.Create(options);
        var started = Stopwatch.GetTimestamp();
        switch (step)
        {
            case "seed":
                var batch = new ChatMessage[Math.Min(perSession, 1000)];
                for (var s = 0; s < sessions; s++)
                {
                    var id = $"s-{s}";
                    await persistence.CreateSessionAsync(id, ["agent-1", "agent-2"]);
                    for (var m = 0; m < perSession; m += batch.Length)
                    {
                        var count = Math.Min(batch.Length, perSession - m);
                        for (var i = 0; i < count; i++)
                        {
                            batch[i] = new ChatMessage
                            {
                                Id = $"m-{m + i}",
                                SessionId = id,
                                Sender = (i & 1) == 0 ? "agent-1" : "agent-2",
                                Content = new string('x', 200) + (m + i).ToString(CultureInfo.InvariantCulture),
                            };
                        }

                        await persistence.AddMessagesAsync(id, count == batch.Length ? batch : batch[..count]);
                    }
                }

                break;
            case "backup":
                await persistence.BackupAsync(archive);
                break;
            case "restore":
                await persistence.RestoreAsync(archive, RestoreMode.Replace);
                break;
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var peak = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds:F3} {peak}"));
        return 0;
    }
}

using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Runs the scheduled maintenance (backups) of one application instance on a fake clock the parent moves, so several
/// processes sharing a store can be driven through exact rounds without sleeping:
/// <c>TestWorker maintain &lt;storageType&gt; &lt;location&gt; &lt;backupPath|-&gt; &lt;intervalSeconds&gt; &lt;backupsToKeep&gt; &lt;startUnixMs&gt; [redisKeyPrefix]</c>.
/// Prints "waiting &lt;task&gt; &lt;dueUnixMs&gt;" once a task's timer is set and "finished &lt;task&gt; &lt;round&gt; &lt;outcome&gt;" after
/// each round; reads "set &lt;unixMs&gt;" (move the clock there) and "stop" from stdin.
/// </summary>
internal static class MaintainMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(args[6], CultureInfo.InvariantCulture)));
        var options = WorkerOptions.For(args[1], args[2], Durability.Normal, args.Length > 7 ? args[7] : null);
        options.BackupEnabled = true;
        options.BackupPath = args[3] == "-" ? null : args[3];
        options.BackupInterval = TimeSpan.FromSeconds(int.Parse(args[4], CultureInfo.InvariantCulture));
        options.BackupsToKeep = int.Parse(args[5], CultureInfo.InvariantCulture);
        options.TimeProvider = clock;

        await using var persistence = SessionPersistence.Create(options);
        using var service = new SessionMaintenanceService(persistence, Microsoft.Extensions.Options.Options.Create(options), NullLogger.Instance)
        {
            Signals = new PrintedSignals(),
        };
        Print("ready");
        await service.StartAsync(CancellationToken.None);
        while (Console.ReadLine() is { } line && line != "stop")
        {
            if (line.StartsWith("set ", StringComparison.Ordinal))
            {
                clock.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(line[4..], CultureInfo.InvariantCulture)));
            }
        }

        await service.StopAsync(CancellationToken.None);
        return 0;
    }

    private static void Print(string line)
    {
        lock (Console.Out)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    private sealed class PrintedSignals : MaintenanceSignals
    {
        public override void Waiting(string task, DateTimeOffset due) =>
            Print(string.Create(CultureInfo.InvariantCulture, $"waiting {task} {due.ToUnixTimeMilliseconds()}"));

        public override void Finished(MaintenanceRoundResult result) =>
            Print(string.Create(CultureInfo.InvariantCulture, $"finished {result.Task} {result.Round} {result.Outcome}"));
    }
}

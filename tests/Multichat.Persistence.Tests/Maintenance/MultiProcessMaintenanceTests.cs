using System.Globalization;
using FluentAssertions;
using Multichat.Persistence.Maintenance;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>
/// The acceptance test: three processes share one Json folder or Sqlite file, each running the scheduled
/// maintenance on a clock this test moves in step; five backup intervals give exactly five backups, and BackupsToKeep
/// = 3 leaves three.
/// </summary>
public sealed class MultiProcessMaintenanceTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 10, 0, TimeSpan.Zero);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-maintenance-processes", Guid.NewGuid().ToString("N"));

    public static TheoryData<StorageType> FileStores => new() { StorageType.Json, StorageType.Sqlite };

    [Theory]
    [MemberData(nameof(FileStores))]
    public async Task Backup_ThreeProcessesFiveIntervals_WritesFiveBackupsOnceEachAndKeepsThree(StorageType storageType)
    {
        var start = Start.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var workers = Enumerable.Range(0, 3)
            .Select(_ => TestWorkerProcess.Start("maintain", storageType.ToString(), _folder, "-", "3600", "3", start))
            .ToList();
        try
        {
            foreach (var worker in workers)
            {
                await worker.Ready.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            }

            var now = Start.ToUnixTimeMilliseconds();
            var until = Start.AddHours(5).ToUnixTimeMilliseconds();
            while (true)
            {
                foreach (var worker in workers)
                {
                    await worker.WaitUntilAsync(w => NextDue(w) > now, TimeSpan.FromSeconds(60));
                }

                var next = workers.Min(NextDue);
                if (next > until)
                {
                    break;
                }

                foreach (var worker in workers)
                {
                    worker.Send("set " + next.ToString(CultureInfo.InvariantCulture));
                }

                now = next;
            }

            var completed = workers.SelectMany(w => w.Events).Where(e => e.StartsWith("finished backup ", StringComparison.Ordinal) && e.EndsWith(" completed", StringComparison.Ordinal)).ToList();
            completed.Should().HaveCount(5, "each of the five rounds runs in exactly one process");
            completed.Select(e => e.Split(' ')[2]).Should().OnlyHaveUniqueItems();
            ScheduledBackup.List(Path.Combine(_folder, "backups")).Select(Path.GetFileName).Should().Equal(
                "multichat-20261202T050000Z.mcbak", "multichat-20261202T040000Z.mcbak", "multichat-20261202T030000Z.mcbak");
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Send("stop");
                await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
                worker.Dispose();
            }
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>The time the worker's backup task waits for now: the last "waiting backup" it printed.</summary>
    private static long NextDue(TestWorkerProcess worker) =>
        worker.Events.LastOrDefault(e => e.StartsWith("waiting backup ", StringComparison.Ordinal)) is { } line
            ? long.Parse(line["waiting backup ".Length..], CultureInfo.InvariantCulture)
            : long.MinValue;
}

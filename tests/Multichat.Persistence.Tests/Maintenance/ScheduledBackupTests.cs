using System.Diagnostics.Metrics;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>The scheduled backups and cleanup of one instance, on a fake clock: rounds, names, retention, failures.</summary>
[Collection(MaintenanceGroup.Name)]
public sealed class ScheduledBackupTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 10, 0, TimeSpan.Zero);

    private readonly string _backups = Path.Combine(Path.GetTempPath(), "multichat-backup-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Start);

    // The parent exists, so a test that puts a file where the backup folder goes does not depend on another test
    // having made it first (it failed alone on a fresh machine).
    public ScheduledBackupTests() => Directory.CreateDirectory(Path.GetDirectoryName(_backups)!);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Backup_FiveIntervalsPass_WritesFiveRestorableBackupsNamedByTheirRoundsUtcStart()
    {
        await using var instance = await StartAsync(keep: 7);
        await instance.Persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await instance.Persistence.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "a", Content = "hi" }, Ct);

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "backup", Start.AddHours(5));

        Names().Should().Equal(
            "multichat-20261202T050000Z.mcbak",
            "multichat-20261202T040000Z.mcbak",
            "multichat-20261202T030000Z.mcbak",
            "multichat-20261202T020000Z.mcbak",
            "multichat-20261202T010000Z.mcbak");
        instance.Probe.Count("backup", "completed").Should().Be(5);
        await using var restored = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await restored.RestoreAsync(Path.Combine(_backups, "multichat-20261202T050000Z.mcbak"), Ct);
        (await restored.GetMessagesAsync("s-1", cancellationToken: Ct)).Select(m => m.Id).Should().Equal("m-1");
    }

    [Fact]
    public async Task Backup_BackupsToKeepThree_KeepsTheNewestThreeAndDeletesOrphanedTemporaryFiles()
    {
        Directory.CreateDirectory(_backups);
        var orphan = Path.Combine(_backups, "multichat-20261201T230000Z.mcbak.tmp-0123456789abcdef");
        await File.WriteAllTextAsync(orphan, "half a backup of a writer that died", Ct);
        var foreign = Path.Combine(_backups, "my-own-backup.mcbak");
        await File.WriteAllTextAsync(foreign, "not ours", Ct);
        await using var instance = await StartAsync(keep: 3);

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "backup", Start.AddHours(5));

        Names().Should().Equal("multichat-20261202T050000Z.mcbak", "multichat-20261202T040000Z.mcbak", "multichat-20261202T030000Z.mcbak");
        File.Exists(orphan).Should().BeFalse("a temporary file no writer holds is a backup that never completed");
        File.Exists(foreign).Should().BeTrue("only scheduled backups are pruned");
    }

    [Fact]
    public async Task Backup_RoundFails_IsReportedCountedAndTheNextRoundSucceeds()
    {
        using var rounds = new RoundCounter();
        await using var instance = await StartAsync(keep: 7);
        await instance.Probe.IdleAfterAsync("backup", _clock.GetUtcNow(), Ct);
        // The backup folder becomes a file: the first round cannot write, the host must not notice.
        await File.WriteAllTextAsync(_backups, "in the way", Ct);

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "backup", Start.AddHours(1));
        File.Delete(_backups);
        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "backup", Start.AddHours(2));

        instance.Probe.Results.Select(r => (r.Round, r.Outcome)).Should().Equal(
            (MaintenanceRounds.At(Start.AddHours(1), TimeSpan.FromHours(1)), "failed"),
            (MaintenanceRounds.At(Start.AddHours(2), TimeSpan.FromHours(1)), "completed"));
        Names().Should().Equal("multichat-20261202T020000Z.mcbak");
        rounds.Count("backup", "failed").Should().Be(1);
        rounds.Count("backup", "completed").Should().Be(1);
    }

    [Fact]
    public async Task Cleanup_CleanupDaysSet_DeletesExpiredSessionsOnSchedule()
    {
        await using var instance = await MaintenanceInstance.StartAsync(_clock, o =>
        {
            o.StorageType = StorageType.Memory;
            o.CleanupDays = 1;
        });
        await instance.Persistence.CreateSessionAsync("old", ["a"], cancellationToken: Ct);

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "cleanup", Start.AddHours(24));
        (await instance.Persistence.GetSessionAsync("old", Ct)).Should().NotBeNull("it is not a day old at the last round before a day passed");
        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "cleanup", Start.AddHours(25));

        (await instance.Persistence.GetSessionAsync("old", Ct)).Should().BeNull();
        instance.Probe.Count("cleanup", "completed").Should().Be(25);
    }

    [Fact]
    public async Task Service_NothingConfigured_EndsAtOnce()
    {
        await using var instance = await MaintenanceInstance.StartAsync(_clock, o => o.StorageType = StorageType.Memory);

        instance.Probe.Results.Should().BeEmpty();
        await instance.ExecuteTask.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        instance.ExecuteTask.IsCompletedSuccessfully.Should().BeTrue();
    }

    public void Dispose()
    {
        if (File.Exists(_backups))
        {
            File.Delete(_backups);
        }

        if (Directory.Exists(_backups))
        {
            Directory.Delete(_backups, recursive: true);
        }
    }

    private Task<MaintenanceInstance> StartAsync(int keep) => MaintenanceInstance.StartAsync(_clock, o =>
    {
        o.StorageType = StorageType.Memory;
        o.BackupEnabled = true;
        o.BackupInterval = TimeSpan.FromHours(1);
        o.BackupPath = _backups;
        o.BackupsToKeep = keep;
    });

    private List<string> Names() => [.. ScheduledBackup.List(_backups).Select(path => Path.GetFileName(path))];

    /// <summary>Counts the maintenance-round measurements of the package's meter.</summary>
    private sealed class RoundCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Task, string Outcome)> _rounds = [];

        public RoundCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "multichat.persistence.maintenance.rounds")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? task = null, outcome = null;
                foreach (var tag in tags)
                {
                    task = tag.Key == "task" ? tag.Value as string : task;
                    outcome = tag.Key == "outcome" ? tag.Value as string : outcome;
                }

                lock (_rounds)
                {
                    _rounds.Add((task ?? "?", outcome ?? "?"));
                }
            });
            _listener.Start();
        }

        public int Count(string task, string outcome)
        {
            lock (_rounds)
            {
                return _rounds.Count(r => r == (task, outcome));
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}

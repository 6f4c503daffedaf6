using FluentAssertions;
using Microsoft.Extensions.Time.Testing;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>Health with scheduled maintenance configured: when backup and cleanup last ran, and overdue backups.</summary>
[Collection(MaintenanceGroup.Name)]
public sealed class MaintenanceHealthTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 10, 0, TimeSpan.Zero);

    private readonly string _backups = Path.Combine(Path.GetTempPath(), "multichat-health-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Start);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CheckHealth_BackupEnabledButNoBackupForTwoIntervals_IsDegradedAndSaysSo()
    {
        await using var persistence = SessionPersistence.Create(Options());

        var fresh = await persistence.CheckHealthAsync(Ct);
        _clock.Advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        var overdue = await persistence.CheckHealthAsync(Ct);

        fresh.Status.Should().Be(StoreHealthStatus.Healthy);
        fresh.Description.Should().Contain("no backup yet").And.Contain("no cleanup yet");
        overdue.Status.Should().Be(StoreHealthStatus.Degraded);
        overdue.Description.Should().Contain("backups are overdue").And.Contain("BackupInterval (01:00:00)");
    }

    [Fact]
    public async Task CheckHealth_AfterScheduledRounds_SaysWhenBackupAndCleanupLastRan()
    {
        await using var instance = await MaintenanceInstance.StartAsync(_clock, o =>
        {
            var options = Options();
            o.StorageType = options.StorageType;
            o.BackupEnabled = options.BackupEnabled;
            o.BackupInterval = options.BackupInterval;
            o.BackupPath = options.BackupPath;
            o.CleanupDays = options.CleanupDays;
        });

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "backup", Start.AddHours(3));
        await MaintenanceInstance.AdvanceThroughAsync(_clock, [instance], "cleanup", Start.AddHours(3));
        var report = await instance.Persistence.CheckHealthAsync(Ct);

        report.Status.Should().Be(StoreHealthStatus.Healthy);
        report.Description.Should().Contain("last backup 2026-12-02 03:00:00Z").And.Contain("last cleanup 2026-12-02 03:00:00Z");
    }

    public void Dispose()
    {
        if (Directory.Exists(_backups))
        {
            Directory.Delete(_backups, recursive: true);
        }
    }

    private SessionPersistenceOptions Options() => new()
    {
        StorageType = StorageType.Memory,
        BackupEnabled = true,
        BackupInterval = TimeSpan.FromHours(1),
        BackupPath = _backups,
        CleanupDays = 30,
        TimeProvider = _clock,
    };
}

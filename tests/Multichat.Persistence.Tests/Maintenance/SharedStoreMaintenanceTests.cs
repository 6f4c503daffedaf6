using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>
/// Three application instances (each its own store instance, as three processes would have) share one Json folder or
/// one Sqlite file: every scheduled round runs on exactly one of them, and a holder that dies loses its round to
/// another after its lease expires.
/// </summary>
[Collection(MaintenanceGroup.Name)]
public sealed class SharedStoreMaintenanceTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 10, 0, TimeSpan.Zero);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-maintenance-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Start);

    public static TheoryData<StorageType> FileStores => new() { StorageType.Json, StorageType.Sqlite };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(FileStores))]
    public async Task Backup_ThreeInstancesFiveIntervals_WritesFiveBackupsOnceEachAndKeepsThree(StorageType storageType)
    {
        var instances = new List<MaintenanceInstance>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                instances.Add(await MaintenanceInstance.StartAsync(_clock, Configure(storageType, keep: 3)));
            }

            await instances[0].Persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
            await MaintenanceInstance.AdvanceThroughAsync(_clock, instances, "backup", Start.AddHours(5));

            instances.Sum(i => i.Probe.Count("backup", "completed")).Should().Be(5, "each of the five rounds runs once");
            instances.SelectMany(i => i.Probe.Results).Where(r => r.Outcome == "completed").Select(r => r.Round).Should().OnlyHaveUniqueItems();
            instances.Sum(i => i.Probe.Count("backup", "failed")).Should().Be(0);
            ScheduledBackup.List(BackupFolder).Select(Path.GetFileName).Should().Equal(
                "multichat-20261202T050000Z.mcbak", "multichat-20261202T040000Z.mcbak", "multichat-20261202T030000Z.mcbak");
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Theory]
    [MemberData(nameof(FileStores))]
    public async Task Backup_HolderDiesWithTheRound_AnotherInstanceRunsItAfterTheLeaseExpires(StorageType storageType)
    {
        await using var survivor = await MaintenanceInstance.StartAsync(_clock, Configure(storageType, keep: 7));
        var round = MaintenanceRounds.At(Start, TimeSpan.FromHours(1)) + 1;
        // A "dead" instance: it claimed the first round (01:00) with a lease to 01:02 and never completed or released it.
        (await survivor.Persistence.MaintenanceLeases.TryClaimAsync("backup", round, "dead-instance", TimeSpan.FromMinutes(52), Ct)).Claimed.Should().BeTrue();

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [survivor], "backup", Start.AddMinutes(50));
        survivor.Probe.Results.Select(r => r.Outcome).Should().Equal("held-elsewhere");
        ScheduledBackup.List(BackupFolder).Should().BeEmpty("the dead instance's lease is live until 01:02");

        await MaintenanceInstance.AdvanceThroughAsync(_clock, [survivor], "backup", Start.AddMinutes(53));

        survivor.Probe.Results.Select(r => (r.Round, r.Outcome)).Should().Equal((round, "held-elsewhere"), (round, "completed"));
        ScheduledBackup.List(BackupFolder).Select(Path.GetFileName).Should().Equal("multichat-20261202T010000Z.mcbak");
    }

    [Theory]
    [MemberData(nameof(FileStores))]
    public async Task Cleanup_ThreeInstancesCleanupDaysSet_DeletesExpiredSessionsOnceARound(StorageType storageType)
    {
        var instances = new List<MaintenanceInstance>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                instances.Add(await MaintenanceInstance.StartAsync(_clock, o =>
                {
                    o.StorageType = storageType;
                    o.StoragePath = _folder;
                    o.CleanupDays = 1;
                }));
            }

            await instances[0].Persistence.CreateSessionAsync("old", ["a"], cancellationToken: Ct);
            await MaintenanceInstance.AdvanceThroughAsync(_clock, instances, "cleanup", Start.AddHours(25));

            (await instances[1].Persistence.GetSessionAsync("old", Ct)).Should().BeNull("the 01:00 round of the next day found it a day idle");
            instances.Sum(i => i.Probe.Count("cleanup", "completed")).Should().Be(25, "each hourly round ran once among the three");
            instances.SelectMany(i => i.Probe.Results).Where(r => r.Outcome == "completed").Select(r => r.Round).Should().OnlyHaveUniqueItems();
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
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

    private string BackupFolder => Path.Combine(_folder, "backups");

    private Action<SessionPersistenceOptions> Configure(StorageType storageType, int keep) => o =>
    {
        o.StorageType = storageType;
        o.StoragePath = _folder;
        o.BackupEnabled = true;
        o.BackupInterval = TimeSpan.FromHours(1);
        o.BackupsToKeep = keep;
    };
}

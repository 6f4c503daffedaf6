using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Maintenance;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>
/// Three instances (three multiplexers, as three machines would have) share one Redis: each scheduled round runs on
/// exactly one of them, through the SET NX PX lease; and the lease rules hold against a real server.
/// </summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisMaintenanceTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 10, 0, TimeSpan.Zero);

    private readonly string _prefix = "mt" + Guid.NewGuid().ToString("N")[..12] + ":";
    private readonly string _backups = Path.Combine(Path.GetTempPath(), "multichat-redis-maintenance", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Start);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await redis.DeleteKeysAsync(_prefix);
        if (Directory.Exists(_backups))
        {
            Directory.Delete(_backups, recursive: true);
        }
    }

    [Fact]
    public async Task Backup_ThreeInstancesFiveIntervals_WritesFiveBackupsOnceEachAndKeepsThree()
    {
        var instances = new List<MaintenanceInstance>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                instances.Add(await MaintenanceInstance.StartAsync(_clock, Configure));
            }

            await instances[0].Persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
            await MaintenanceInstance.AdvanceThroughAsync(_clock, instances, "backup", Start.AddHours(5));

            instances.Sum(i => i.Probe.Count("backup", "completed")).Should().Be(5);
            instances.SelectMany(i => i.Probe.Results).Where(r => r.Outcome == "completed").Select(r => r.Round).Should().OnlyHaveUniqueItems();
            ScheduledBackup.List(_backups).Select(Path.GetFileName).Should().Equal(
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

    [Fact]
    public async Task Leases_AgainstRedis_ClaimRenewCompleteAndReleaseByToken()
    {
        await using var persistence = SessionPersistence.Create(Options());
        var leases = persistence.MaintenanceLeases;
        var lease = TimeSpan.FromMinutes(2);

        (await leases.TryClaimAsync("backup", 7, "a", lease, Ct)).Should().Be(MaintenanceClaim.Won);
        var held = await leases.TryClaimAsync("backup", 7, "b", lease, Ct);
        (await leases.RenewAsync("backup", "b", lease, Ct)).Should().BeFalse("only the token's holder renews");
        (await leases.RenewAsync("backup", "a", lease, Ct)).Should().BeTrue();
        await leases.ReleaseAsync("backup", "b", Ct);
        var stillHeld = await leases.TryClaimAsync("backup", 7, "b", lease, Ct);
        await leases.CompleteAsync("backup", 7, "a", _clock.GetUtcNow(), Ct);

        held.Claimed.Should().BeFalse();
        held.HeldUntil.Should().BeCloseTo(_clock.GetUtcNow() + lease, TimeSpan.FromSeconds(5));
        stillHeld.Claimed.Should().BeFalse("a release by another token deletes nothing");
        (await leases.TryClaimAsync("backup", 7, "b", lease, Ct)).Should().Be(MaintenanceClaim.Done);
        (await leases.TryClaimAsync("backup", 8, "b", lease, Ct)).Should().Be(MaintenanceClaim.Won);
        (await leases.LastCompletedAsync("backup", Ct)).Should().Be(_clock.GetUtcNow());
    }

    private SessionPersistenceOptions Options()
    {
        var options = new SessionPersistenceOptions();
        Configure(options);
        options.TimeProvider = _clock;
        return options;
    }

    private void Configure(SessionPersistenceOptions o)
    {
        o.StorageType = StorageType.Redis;
        o.ConnectionString = redis.ConnectionString;
        o.RedisKeyPrefix = _prefix;
        o.BackupEnabled = true;
        o.BackupInterval = TimeSpan.FromHours(1);
        o.BackupPath = _backups;
        o.BackupsToKeep = 3;
    }
}

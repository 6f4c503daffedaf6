using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>A generic host built from a settings file with the seed's keys writes backups on schedule.</summary>
[Collection(MaintenanceGroup.Name)]
public sealed class MaintenanceHostTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 10, 0, TimeSpan.Zero);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-host-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Host_SeedSettingsFileWithHourlyBackups_WritesABackupEachHour()
    {
        Directory.CreateDirectory(_folder);
        var store = Path.Combine(_folder, "store").Replace("\\", "\\\\", StringComparison.Ordinal);
        var settings = Path.Combine(_folder, "appsettings.json");
        await File.WriteAllTextAsync(settings, $$"""
            {
              "SessionPersistence": {
                "storage_type": "json",
                "storage_path": "{{store}}",
                "backup_enabled": true,
                "backup_interval": "hourly",
                "backups_to_keep": 2
              }
            }
            """, TestContext.Current.CancellationToken);
        var clock = new FakeTimeProvider(Start);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = _folder });
        builder.Configuration.AddJsonFile(settings);
        builder.Services.AddSessionPersistence(builder.Configuration.GetSection("SessionPersistence"));
        builder.Services.PostConfigure<SessionPersistenceOptions>(o => o.TimeProvider = clock);
        using var host = builder.Build();
        var probe = new MaintenanceProbe();
        host.Services.GetServices<IHostedService>().OfType<SessionMaintenanceService>().Single().Signals = probe;

        await host.StartAsync(TestContext.Current.CancellationToken);
        var due = await probe.IdleAfterAsync("backup", clock.GetUtcNow(), TestContext.Current.CancellationToken);
        for (var hour = 0; hour < 3; hour++)
        {
            clock.SetUtcNow(due);
            due = await probe.IdleAfterAsync("backup", clock.GetUtcNow(), TestContext.Current.CancellationToken);
        }

        await host.StopAsync(TestContext.Current.CancellationToken);

        probe.Count("backup", "completed").Should().Be(3);
        ScheduledBackup.List(Path.Combine(_folder, "store", "backups")).Select(Path.GetFileName).Should().Equal(
            "multichat-20261202T030000Z.mcbak", "multichat-20261202T020000Z.mcbak");
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}

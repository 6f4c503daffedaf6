using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Tests.DependencyInjection;

/// <summary>The maintenance settings as a settings file writes them: both spellings, interval words, clear errors.</summary>
public sealed class MaintenanceConfigurationTests
{
    [Theory]
    [InlineData("hourly", 1.0)]
    [InlineData("daily", 24.0)]
    [InlineData("Weekly", 168.0)]
    [InlineData("06:00:00", 6.0)]
    public void Bind_SeedKeys_ReadWordsAndTimeSpans(string interval, double hours)
    {
        var options = Bind(new()
        {
            ["storage_type"] = "memory",
            ["backup_enabled"] = "true",
            ["backup_interval"] = interval,
            ["backup_path"] = "/tmp/multichat-backups",
            ["backups_to_keep"] = "3",
            ["cleanup_interval"] = interval,
        });

        options.BackupEnabled.Should().BeTrue();
        options.BackupInterval.Should().Be(TimeSpan.FromHours(hours));
        options.CleanupInterval.Should().Be(TimeSpan.FromHours(hours));
        options.BackupPath.Should().Be("/tmp/multichat-backups");
        options.BackupsToKeep.Should().Be(3);
    }

    [Theory]
    [InlineData("daily", 24.0)]
    [InlineData("1.00:00:00", 24.0)]
    public void Bind_PascalCaseKeys_ReadWordsAndTimeSpansToo(string interval, double hours)
    {
        var options = Bind(new()
        {
            ["StorageType"] = "Memory",
            ["BackupEnabled"] = "true",
            ["BackupInterval"] = interval,
            ["BackupPath"] = "/tmp/multichat-backups",
            ["CleanupInterval"] = interval,
        });

        options.BackupInterval.Should().Be(TimeSpan.FromHours(hours));
        options.CleanupInterval.Should().Be(TimeSpan.FromHours(hours));
    }

    [Theory]
    [InlineData("backup_interval")]
    [InlineData("BackupInterval")]
    public void Bind_UnknownIntervalWord_NamesTheSettingAndTheWordsAllowed(string key)
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", [key] = "fortnightly" });

        bind.Should().Throw<InvalidOperationException>().WithMessage(
            $"{key} 'fortnightly' is not an interval; use \"hourly\", \"daily\", \"weekly\" or a TimeSpan such as \"06:00:00\".");
    }

    [Fact]
    public void Bind_BothSpellingsDisagree_NamesBoth()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["BackupInterval"] = "hourly", ["backup_interval"] = "daily" });

        bind.Should().Throw<InvalidOperationException>().WithMessage("*BackupInterval*backup_interval*one setting in two spellings*");
    }

    [Fact]
    public void Bind_BothSpellingsAgreeInDifferentWords_IsFine()
    {
        Bind(new() { ["storage_type"] = "memory", ["BackupInterval"] = "01:00:00", ["backup_interval"] = "hourly" })
            .BackupInterval.Should().Be(TimeSpan.FromHours(1));
    }

    [Fact]
    public void Validate_BackupEnabledOnMemoryWithoutPath_FailsNamingBackupPath()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["backup_enabled"] = "true" });

        bind.Should().Throw<OptionsValidationException>().WithMessage("*BackupPath is empty; with BackupEnabled the Memory store needs a folder*");
    }

    [Theory]
    [InlineData("00:00:00.5")]
    [InlineData("400.00:00:00")]
    public void Validate_IntervalOutOfRange_FailsNamingTheRange(string interval)
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["CleanupInterval"] = interval });

        bind.Should().Throw<OptionsValidationException>().WithMessage("*CleanupInterval is *; it must be between 1 second and 365 days*");
    }

    private static SessionPersistenceOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => new KeyValuePair<string, string?>("SessionPersistence:" + s.Key, s.Value))).Build();
        using var provider = new ServiceCollection().AddSessionPersistence(configuration.GetSection("SessionPersistence")).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;
    }
}

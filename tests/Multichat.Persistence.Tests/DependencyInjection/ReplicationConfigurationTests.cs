using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Tests.DependencyInjection;

/// <summary>ReadFrom, MinReplicas and ReplicaTimeout bind in both spellings and are checked with messages that name them.</summary>
public sealed class ReplicationConfigurationTests
{
    [Fact]
    public void Bind_NoReplicationSettings_KeepsTheDefaults()
    {
        var options = Bind(new() { ["storage_type"] = "memory" });

        options.ReadFrom.Should().Be(ReadFrom.Primary);
        options.MinReplicas.Should().Be(0);
        options.ReplicaTimeout.Should().Be(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Bind_PascalCaseKeys_ReadsAllThree()
    {
        var options = Bind(new() { ["StorageType"] = "Memory", ["ReadFrom"] = "PreferReplica", ["MinReplicas"] = "2", ["ReplicaTimeout"] = "00:00:00.250" });

        options.ReadFrom.Should().Be(ReadFrom.PreferReplica);
        options.MinReplicas.Should().Be(2);
        options.ReplicaTimeout.Should().Be(TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public void Bind_SnakeCaseKeys_ReadsAllThreeWithSnakeCaseWords()
    {
        var options = Bind(new() { ["storage_type"] = "memory", ["read_from"] = "prefer_replica", ["min_replicas"] = "1", ["replica_timeout"] = "00:00:02" });

        options.ReadFrom.Should().Be(ReadFrom.PreferReplica);
        options.MinReplicas.Should().Be(1);
        options.ReplicaTimeout.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Bind_BothSpellingsDisagree_FailsNamingBothKeys()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["MinReplicas"] = "1", ["min_replicas"] = "2" });

        bind.Should().Throw<InvalidOperationException>().WithMessage("*MinReplicas*min_replicas*");
    }

    [Fact]
    public void Bind_BothSpellingsAgree_Binds()
    {
        var options = Bind(new() { ["storage_type"] = "memory", ["ReadFrom"] = "PreferReplica", ["read_from"] = "prefer_replica" });

        options.ReadFrom.Should().Be(ReadFrom.PreferReplica);
    }

    [Fact]
    public void Bind_UnknownReadFromWord_FailsNamingTheSettingAndTheWords()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["read_from"] = "replica_only" });

        bind.Should().Throw<InvalidOperationException>().WithMessage("*read_from 'replica_only' is unknown; use primary or prefer_replica*");
    }

    [Fact]
    public void Bind_ReplicaTimeoutNotATimeSpan_FailsNamingTheSetting()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["replica_timeout"] = "soon" });

        bind.Should().Throw<InvalidOperationException>().WithMessage("*replica_timeout 'soon'*");
    }

    [Fact]
    public void Validate_UndefinedReadFromValue_FailsNamingTheSettingAndTheValues()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["ReadFrom"] = "7" });

        bind.Should().Throw<OptionsValidationException>().WithMessage("*ReadFrom '7' is unknown; use Primary or PreferReplica*");
    }

    [Fact]
    public void Validate_NegativeMinReplicas_FailsNamingTheSettingAndTheRange()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["MinReplicas"] = "-1" });

        bind.Should().Throw<OptionsValidationException>().WithMessage("*MinReplicas is -1; it must be between 0 and 100*");
    }

    [Fact]
    public void Validate_ZeroReplicaTimeout_FailsNamingTheSetting()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["ReplicaTimeout"] = "00:00:00" });

        bind.Should().Throw<OptionsValidationException>().WithMessage("*ReplicaTimeout is 00:00:00; it must be between 1 ms and 00:01:00*");
    }

    [Fact]
    public void Validate_RedisReplicaTimeoutNotBelowOperationTimeout_FailsNamingBoth()
    {
        var bind = () => Bind(new()
        {
            ["storage_type"] = "redis", ["storage_path"] = "redis://127.0.0.1:6379", ["MinReplicas"] = "1",
            ["ReplicaTimeout"] = "00:00:05", ["RedisOperationTimeout"] = "00:00:05",
        });

        bind.Should().Throw<OptionsValidationException>().WithMessage("*ReplicaTimeout is 00:00:05 and RedisOperationTimeout 00:00:05*shorter*");
    }

    private static SessionPersistenceOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => new KeyValuePair<string, string?>("SessionPersistence:" + s.Key, s.Value))).Build();
        using var provider = new ServiceCollection().AddSessionPersistence(configuration.GetSection("SessionPersistence")).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;
    }
}

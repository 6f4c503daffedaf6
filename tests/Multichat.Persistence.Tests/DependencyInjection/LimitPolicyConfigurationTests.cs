using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Tests.DependencyInjection;

/// <summary>The limit policies bind from a settings file next to the seed's limit keys.</summary>
public sealed class LimitPolicyConfigurationTests
{
    [Fact]
    public void Bind_PolicyNamesNextToSeedLimits_ReadsBoth()
    {
        var options = Bind(new()
        {
            ["storage_type"] = "memory",
            ["max_sessions"] = "100",
            ["max_messages_per_session"] = "1000",
            ["SessionLimitPolicy"] = "EvictLeastRecentlyActive",
            ["MessageLimitPolicy"] = "reject",
        });

        options.MaxSessions.Should().Be(100);
        options.MaxMessagesPerSession.Should().Be(1000);
        options.SessionLimitPolicy.Should().Be(SessionLimitPolicy.EvictLeastRecentlyActive);
        options.MessageLimitPolicy.Should().Be(MessageLimitPolicy.Reject);
    }

    [Fact]
    public void Bind_NoPolicies_KeepsTheDefaults()
    {
        var options = Bind(new() { ["storage_type"] = "memory", ["max_sessions"] = "10" });

        options.SessionLimitPolicy.Should().Be(SessionLimitPolicy.Reject);
        options.MessageLimitPolicy.Should().Be(MessageLimitPolicy.TrimOldest);
    }

    [Fact]
    public void Bind_UnknownPolicyWord_FailsNamingTheSetting()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["SessionLimitPolicy"] = "EvictOldest" });

        bind.Should().Throw<InvalidOperationException>().WithMessage("*SessionLimitPolicy*");
    }

    [Fact]
    public void Validate_UndefinedPolicyValue_FailsNamingTheSettingAndTheValues()
    {
        var bind = () => Bind(new() { ["storage_type"] = "memory", ["MessageLimitPolicy"] = "5" });

        bind.Should().Throw<OptionsValidationException>().WithMessage("*MessageLimitPolicy '5' is unknown; use TrimOldest or Reject*");
    }

    private static SessionPersistenceOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => new KeyValuePair<string, string?>("SessionPersistence:" + s.Key, s.Value))).Build();
        using var provider = new ServiceCollection().AddSessionPersistence(configuration.GetSection("SessionPersistence")).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;
    }
}

using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Tests.DependencyInjection;

public sealed class AddSessionPersistenceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddSessionPersistence_WithDelegate_RegistersFacadeAndStoreAsSingletons()
    {
        var services = new ServiceCollection().AddSessionPersistence(o => o.StorageType = StorageType.Memory);
        await using var provider = services.BuildServiceProvider();

        var persistence = provider.GetRequiredService<SessionPersistence>();
        var store = provider.GetRequiredService<ISessionStore>();

        persistence.Should().BeSameAs(provider.GetRequiredService<SessionPersistence>());
        persistence.Store.Should().BeSameAs(store);
        store.Name.Should().Be("memory");
        (await persistence.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct)).Version.Should().Be(1);
    }

    [Fact]
    public async Task AddSessionPersistence_FromConfiguration_BindsEverySetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SessionPersistence:StorageType"] = "memory",
            ["SessionPersistence:StoragePath"] = "elsewhere",
            ["SessionPersistence:CleanupDays"] = "30",
            ["SessionPersistence:MaxSessions"] = "100",
            ["SessionPersistence:MaxMessagesPerSession"] = "1000",
            ["SessionPersistence:Durability"] = "Full",
        }).Build();
        var services = new ServiceCollection().AddSessionPersistence(configuration.GetSection("SessionPersistence"));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;

        options.Should().BeEquivalentTo(new
        {
            StorageType = StorageType.Memory,
            StoragePath = "elsewhere",
            CleanupDays = 30,
            MaxSessions = 100,
            MaxMessagesPerSession = 1000,
            Durability = Durability.Full,
        });
        provider.GetRequiredService<ISessionStore>().Name.Should().Be("memory");
    }

    [Fact]
    public async Task AddSessionPersistence_FromSeedSnakeCaseKeys_BindsThem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["storage_type"] = "memory",
            ["storage_path"] = "seed-path",
            ["cleanup_days"] = "7",
            ["max_sessions"] = "5",
            ["max_messages_per_session"] = "50",
        }).Build();
        await using var provider = new ServiceCollection().AddSessionPersistence(configuration).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;

        options.Should().BeEquivalentTo(new { StorageType = StorageType.Memory, StoragePath = "seed-path", CleanupDays = 7, MaxSessions = 5, MaxMessagesPerSession = 50 });
    }

    [Fact]
    public async Task AddSessionPersistence_InvalidSetting_FailsAtFirstResolveNamingIt()
    {
        var services = new ServiceCollection().AddSessionPersistence(o =>
        {
            o.StorageType = StorageType.Memory;
            o.MaxMessagesPerSession = 0;
        });
        await using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<SessionPersistence>();

        act.Should().Throw<OptionsValidationException>().WithMessage("*MaxMessagesPerSession*0*");
    }

    [Fact]
    public async Task AddSessionPersistence_UserRegisteredStore_Wins()
    {
        await using var own = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        var services = new ServiceCollection();
        services.AddSingleton(own.Store);
        services.AddSessionPersistence(o => o.StorageType = StorageType.Memory);
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<SessionPersistence>().Store.Should().BeSameAs(own.Store);
    }

    [Fact]
    public async Task AddHealthChecks_AddSessionPersistence_ReportsHealthy()
    {
        var services = new ServiceCollection().AddSessionPersistence(o => o.StorageType = StorageType.Memory);
        services.AddLogging();
        services.AddHealthChecks().AddSessionPersistence();
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);

        report.Status.Should().Be(HealthStatus.Healthy);
        report.Entries.Should().ContainKey("multichat-persistence");
    }

    [Theory]
    [InlineData("StorageType", "Sqlite", "storage_type", "memory")]
    [InlineData("StoragePath", "a", "storage_path", "b")]
    [InlineData("MaxSessions", "10", "max_sessions", "20")]
    public async Task AddSessionPersistence_SettingInBothSpellingsDisagreeing_FailsNamingBoth(string pascal, string pascalValue, string seed, string seedValue)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["StorageType"] = "memory",
            [pascal] = pascalValue,
            [seed] = seedValue,
        }).Build();
        await using var provider = new ServiceCollection().AddSessionPersistence(configuration).BuildServiceProvider();

        var act = () => provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;

        act.Should().Throw<InvalidOperationException>().WithMessage($"*{pascal}*{seed}*");
    }

    [Fact]
    public async Task AddSessionPersistence_SettingInBothSpellingsAgreeing_BindsIt()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["StorageType"] = "Memory",
            ["storage_type"] = "memory",
            ["MaxSessions"] = "10",
            ["max_sessions"] = "10",
        }).Build();
        await using var provider = new ServiceCollection().AddSessionPersistence(configuration).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;

        options.Should().BeEquivalentTo(new { StorageType = StorageType.Memory, MaxSessions = 10 });
    }

    [Fact]
    public async Task AddSessionPersistence_RedisWithoutAUrl_FailsAtHostStart()
    {
        var services = new ServiceCollection().AddSessionPersistence(o => o.StorageType = StorageType.Redis);
        await using var provider = services.BuildServiceProvider();

        // What a generic host runs at start for ValidateOnStart, before any store is opened.
        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().WithMessage("*StoragePath*redis://*");
    }
}

using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Tests.DependencyInjection;

/// <summary><c>AddKeyedSessionPersistence</c>: independent instances, each with its own store, options and schedule,
/// resolvable with <c>[FromKeyedServices]</c>, next to an unkeyed one.</summary>
public sealed class KeyedSessionPersistenceTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-keyed-tests", Guid.NewGuid().ToString("N")[..12]);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task KeyedInstances_AreIndependent_AndResolveWithFromKeyedServices()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agents:StorageType"] = "Sqlite",
            ["Agents:StoragePath"] = Path.Combine(_folder, "agents"),
            ["Room:storage_type"] = "Memory",
            ["Room:max_sessions"] = "1",
        }).Build();
        await using var provider = new ServiceCollection()
            .AddKeyedSessionPersistence("agents", configuration.GetSection("Agents"))
            .AddKeyedSessionPersistence("room", configuration.GetSection("Room"))
            .AddSessionPersistence(o => o.StorageType = StorageType.Memory)
            .AddSingleton<TwoStores>()
            .BuildServiceProvider();

        var both = provider.GetRequiredService<TwoStores>();
        await both.Agents.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await both.Room.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);

        both.Agents.Store.Name.Should().Be("sqlite");
        both.Room.Store.Name.Should().Be("memory");
        provider.GetRequiredKeyedService<ISessionStore>("agents").Should().BeSameAs(both.Agents.Store, "the keyed store is the keyed facade's chain");
        (await provider.GetRequiredService<SessionPersistence>().GetSessionAsync("s-1", Ct)).Should().BeNull("the unkeyed instance is another store");
        var overLimit = () => both.Room.CreateSessionAsync("s-2", ["Agent-1"], cancellationToken: Ct);
        await overLimit.Should().ThrowAsync<QuotaExceededException>("the room's own MaxSessions applies, snake_case included");
        await both.Agents.CreateSessionAsync("s-2", ["Agent-1"], cancellationToken: Ct);
        File.Exists(Path.Combine(_folder, "agents", "sessions.db")).Should().BeTrue();
        provider.GetServices<IHostedService>().Should().HaveCount(3, "each instance has its own scheduled maintenance");
    }

    [Fact]
    public void AKeyedInstancesBadSetting_FailsNamingTheKey()
    {
        using var provider = new ServiceCollection()
            .AddKeyedSessionPersistence("room", o => (o.StorageType, o.MaxSessions) = (StorageType.Memory, 0))
            .BuildServiceProvider();

        var act = () => provider.GetRequiredKeyedService<SessionPersistence>("room");

        act.Should().Throw<OptionsValidationException>().WithMessage("*Session persistence 'room': MaxSessions*");
    }

    [Fact]
    public void TheSameKeyTwice_IsRefused()
    {
        var services = new ServiceCollection().AddKeyedSessionPersistence("room", o => o.StorageType = StorageType.Memory);

        var again = () => services.AddKeyedSessionPersistence("room", o => o.StorageType = StorageType.Memory);
        var empty = () => services.AddKeyedSessionPersistence("", o => o.StorageType = StorageType.Memory);

        again.Should().Throw<ArgumentException>().WithMessage("*'room' is registered already*");
        empty.Should().Throw<ArgumentException>();
    }

    private sealed class TwoStores([FromKeyedServices("agents")] SessionPersistence agents, [FromKeyedServices("room")] SessionPersistence room)
    {
        public SessionPersistence Agents { get; } = agents;

        public SessionPersistence Room { get; } = room;
    }
}

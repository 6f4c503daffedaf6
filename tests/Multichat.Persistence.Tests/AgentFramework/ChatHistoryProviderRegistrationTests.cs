using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Multichat.Persistence.AgentFramework;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>The provider from dependency injection: over the unkeyed store, or a keyed one.</summary>
public sealed class ChatHistoryProviderRegistrationTests
{
    [Fact]
    public async Task AddMultichatChatHistoryProvider_Unkeyed_UsesTheRegisteredStoreAndOptions()
    {
        await using var services = new ServiceCollection()
            .AddSessionPersistence(o => o.StorageType = StorageType.Memory)
            .AddMultichatChatHistoryProvider(o => o.MaxHistoryMessages = 7)
            .BuildServiceProvider();

        var provider = services.GetRequiredService<MultichatChatHistoryProvider>();

        provider.Persistence.Should().BeSameAs(services.GetRequiredService<SessionPersistence>());
        services.GetRequiredService<MultichatChatHistoryProvider>().Should().BeSameAs(provider);
    }

    [Fact]
    public async Task AddMultichatChatHistoryProvider_Keyed_UsesTheKeyedStore()
    {
        await using var services = new ServiceCollection()
            .AddSessionPersistence(o => o.StorageType = StorageType.Memory)
            .AddKeyedSessionPersistence("agents", o => o.StorageType = StorageType.Memory)
            .AddMultichatChatHistoryProvider(persistenceKey: "agents")
            .BuildServiceProvider();

        var provider = services.GetRequiredService<MultichatChatHistoryProvider>();

        provider.Persistence.Should().BeSameAs(services.GetRequiredKeyedService<SessionPersistence>("agents"))
            .And.NotBeSameAs(services.GetRequiredService<SessionPersistence>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(MessageQuery.MaxLimit + 1)]
    public void MaxHistoryMessages_OutOfRange_ThrowsNamingTheSetting(int value)
    {
        var act = () => new MultichatChatHistoryProviderOptions { MaxHistoryMessages = value };

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MaxHistoryMessages");
    }
}

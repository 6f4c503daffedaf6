using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Multichat.Persistence.AgentFramework;

/// <summary>Registers a <see cref="MultichatChatHistoryProvider"/> in dependency injection.</summary>
public static class MultichatChatHistoryProviderServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="MultichatChatHistoryProvider"/> (a singleton; a registration of your own wins) over the
    /// <see cref="SessionPersistence"/> that <c>AddSessionPersistence</c> registered, or over the keyed one
    /// <c>AddKeyedSessionPersistence(persistenceKey, …)</c> registered. Give it to agents as
    /// <c>ChatClientAgentOptions.ChatHistoryProvider</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the provider's options; defaults when <see langword="null"/>.</param>
    /// <param name="persistenceKey">The key of a keyed store; <see langword="null"/> for the unkeyed one.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddMultichatChatHistoryProvider(
        this IServiceCollection services, Action<MultichatChatHistoryProviderOptions>? configure = null, string? persistenceKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(provider =>
        {
            var persistence = persistenceKey is null
                ? provider.GetRequiredService<SessionPersistence>()
                : provider.GetRequiredKeyedService<SessionPersistence>(persistenceKey);
            var options = new MultichatChatHistoryProviderOptions();
            configure?.Invoke(options);
            return new MultichatChatHistoryProvider(persistence, options);
        });
        return services;
    }
}

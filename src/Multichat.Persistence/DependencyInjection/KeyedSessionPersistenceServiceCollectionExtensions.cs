using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Multichat.Persistence;
using Multichat.Persistence.Maintenance;
using Multichat.Persistence.Pipeline;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers independent, keyed Multichat.Persistence instances (for example a Sqlite store for agents and a
/// Redis store for a shared room), each resolvable with <c>[FromKeyedServices(key)]</c>.</summary>
public static class KeyedSessionPersistenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="SessionPersistence"/> and an <see cref="ISessionStore"/> under <paramref name="key"/>, as
    /// keyed singletons with their own options (the named options <paramref name="key"/>), configured in code, and the
    /// instance's own scheduled maintenance. Independent of <c>AddSessionPersistence</c> and of other keys: each has
    /// its own store, pipeline, limits and schedule. Options are validated when first resolved and at host start, the
    /// key in every message.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty, or already registered.</exception>
    public static IServiceCollection AddKeyedSessionPersistence(this IServiceCollection services, string key, Action<SessionPersistenceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        CheckKey(services, key);
        services.AddOptions<SessionPersistenceOptions>(key).Configure(configure).ValidateOnStart();
        return AddKeyedCore(services, key);
    }

    /// <summary>
    /// Registers a keyed instance as <see cref="AddKeyedSessionPersistence(IServiceCollection, string, Action{SessionPersistenceOptions})"/>
    /// does, with its options bound from a configuration section (for example <c>configuration.GetSection("Agents")</c>)
    /// in both spellings, as <c>AddSessionPersistence(IConfiguration)</c> binds them.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty, or already registered.</exception>
    public static IServiceCollection AddKeyedSessionPersistence(this IServiceCollection services, string key, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        CheckKey(services, key);
        SessionPersistenceServiceCollectionExtensions.BindBothSpellings(services.AddOptions<SessionPersistenceOptions>(key), configuration).ValidateOnStart();
        return AddKeyedCore(services, key);
    }

    private static void CheckKey(IServiceCollection services, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(SessionPersistence) && Equals(d.ServiceKey, key)))
        {
            throw new ArgumentException($"A session persistence instance with the key '{key}' is registered already; each key names one instance.", nameof(key));
        }
    }

    private static IServiceCollection AddKeyedCore(IServiceCollection services, string key)
    {
        // A key provider registered under the same key (a vault client for this instance), else one registered without.
        SessionPersistenceServiceCollectionExtensions.AddValidationAndKeys(
            services, services.AddOptions<SessionPersistenceOptions>(key), sp => sp.GetKeyedService<IEncryptionKeyProvider>(key) ?? sp.GetService<IEncryptionKeyProvider>());
        services.AddKeyedSingleton<ISessionStore>(key, (sp, _) => SessionStorePipeline.Open(Options(sp, key), sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        services.AddKeyedSingleton(key, (sp, _) => SessionPersistence.OverRegisteredStore(
            sp.GetRequiredKeyedService<ISessionStore>(key), Options(sp, key), sp.GetService<ILoggerFactory>()));
        services.AddSingleton<IHostedService>(sp => new SessionMaintenanceService(
            sp.GetRequiredKeyedService<SessionPersistence>(key),
            Microsoft.Extensions.Options.Options.Create(Options(sp, key)),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger($"{typeof(SessionMaintenanceService).FullName}[{key}]")));
        return services;
    }

    private static SessionPersistenceOptions Options(IServiceProvider services, string key) =>
        services.GetRequiredService<IOptionsMonitor<SessionPersistenceOptions>>().Get(key);
}

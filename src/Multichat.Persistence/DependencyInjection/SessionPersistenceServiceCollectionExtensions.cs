using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Multichat.Persistence;
using Multichat.Persistence.Maintenance;
using Multichat.Persistence.Pipeline;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Multichat.Persistence in a service collection.</summary>
public static class SessionPersistenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SessionPersistence"/> and <see cref="ISessionStore"/> as singletons, configured in code,
    /// and the scheduled maintenance (a hosted service: cleanup when a retention or limit setting is set, backups with
    /// <see cref="SessionPersistenceOptions.BackupEnabled"/>). Options are validated when first resolved (and at host
    /// start); a user's own registrations win.
    /// </summary>
    public static IServiceCollection AddSessionPersistence(this IServiceCollection services, Action<SessionPersistenceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SessionPersistenceOptions>().Configure(configure).ValidateOnStart();
        return AddCore(services);
    }

    /// <summary>
    /// Registers <see cref="SessionPersistence"/> and <see cref="ISessionStore"/> as singletons, with options bound from
    /// a configuration section (for example <c>configuration.GetSection("SessionPersistence")</c>), so one setting
    /// (<c>StorageType</c>) switches the store. The seed's snake_case keys (<c>storage_type</c>, <c>storage_path</c>,
    /// <c>cleanup_days</c>, <c>max_sessions</c>, <c>max_messages_per_session</c>, <c>backup_enabled</c>,
    /// <c>backup_interval</c>, <c>backup_path</c>, <c>backups_to_keep</c>, <c>cleanup_interval</c>, and the replication settings
    /// <c>read_from</c>, <c>min_replicas</c>, <c>replica_timeout</c>) are read too; the
    /// intervals take <c>"hourly"</c>, <c>"daily"</c>, <c>"weekly"</c> or a TimeSpan in either spelling.
    /// </summary>
    public static IServiceCollection AddSessionPersistence(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        BindBothSpellings(services.AddOptions<SessionPersistenceOptions>(), configuration).ValidateOnStart();
        return AddCore(services);
    }

    /// <summary>Binds <paramref name="configuration"/> in both spellings (PascalCase and the seed's snake_case, the
    /// interval words) into the options <paramref name="builder"/> builds: for the unkeyed and the keyed registrations.</summary>
    internal static OptionsBuilder<SessionPersistenceOptions> BindBothSpellings(OptionsBuilder<SessionPersistenceOptions> builder, IConfiguration configuration) =>
        builder.Bind(new IntervalWordsConfiguration(configuration)).Configure(options => SeedConfigurationKeys.Apply(configuration, options));

    /// <summary>The validator, and the container's key provider (a vault client) as the key source unless code set one;
    /// <paramref name="keyProvider"/> finds it (a keyed instance looks under its key first).</summary>
    internal static void AddValidationAndKeys(
        IServiceCollection services, OptionsBuilder<SessionPersistenceOptions> builder, Func<IServiceProvider, IEncryptionKeyProvider?> keyProvider)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionPersistenceOptions>, SessionPersistenceOptionsValidator>());
        builder.PostConfigure<IServiceProvider>((options, sp) =>
        {
            if (options.Encryption is { } encryption)
            {
                encryption.KeyProvider ??= keyProvider(sp);
            }
        });
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        AddValidationAndKeys(services, services.AddOptions<SessionPersistenceOptions>(), sp => sp.GetService<IEncryptionKeyProvider>());
        // DI's ISessionStore is the composed pipeline, never a bare store: an application that resolves it gets the
        // same validation, limits and telemetry as the facade, which shares that one chain.
        services.TryAddSingleton<ISessionStore>(sp => SessionStorePipeline.Open(
            sp.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value, sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        services.TryAddSingleton(sp => SessionPersistence.OverRegisteredStore(
            sp.GetRequiredService<ISessionStore>(),
            sp.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value,
            sp.GetService<ILoggerFactory>()));
        // Scheduled cleanup and backups; it ends at once when the options configure neither.
        // Logging is optional, as for the facade: a container without it still starts.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SessionMaintenanceService>(sp => new SessionMaintenanceService(
            sp.GetRequiredService<SessionPersistence>(),
            sp.GetRequiredService<IOptions<SessionPersistenceOptions>>(),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<SessionMaintenanceService>())));
        return services;
    }
}

using System.Globalization;
using Microsoft.Extensions.Configuration;
using Multichat.Persistence;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Reads the snake_case keys of the seed configuration, so existing settings files keep working.</summary>
internal static class SeedConfigurationKeys
{
    public static void Apply(IConfiguration configuration, SessionPersistenceOptions options)
    {
        if (configuration["storage_type"] is { } storageType)
        {
            options.StorageType = Enum.TryParse<StorageType>(storageType, ignoreCase: true, out var parsed)
                ? parsed
                : throw new InvalidOperationException($"storage_type '{storageType}' is unknown; use json, sqlite, memory or redis.");
        }

        if (configuration["storage_path"] is { } storagePath)
        {
            options.StoragePath = storagePath;
        }

        options.CleanupDays = Int(configuration, "cleanup_days") ?? options.CleanupDays;
        options.MaxSessions = Int(configuration, "max_sessions") ?? options.MaxSessions;
        options.MaxMessagesPerSession = Int(configuration, "max_messages_per_session") ?? options.MaxMessagesPerSession;
    }

    private static int? Int(IConfiguration configuration, string key) => configuration[key] switch
    {
        null => null,
        var text when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) => value,
        var text => throw new InvalidOperationException($"{key} '{text}' is not a whole number."),
    };
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The options' configuration section as the binder should see it: the interval settings (<c>BackupInterval</c>,
/// <c>CleanupInterval</c>) read as TimeSpans even when the file says <c>"hourly"</c>, <c>"daily"</c> or
/// <c>"weekly"</c>. The binder has no per-property hook (<c>ConfigurationIgnore</c> arrives in .NET 11), and binding
/// a word into a TimeSpan fails with a message that does not list the words, so the words are translated here, and an
/// unknown one fails with a message that names the setting and what it takes. Nothing is written back to the
/// application's configuration.
/// </summary>
internal sealed class IntervalWordsConfiguration(IConfiguration inner) : IConfigurationSection
{
    public string? this[string key]
    {
        get => IsInterval(key) && inner[key] is { } text ? IntervalSetting.Normalize(key, text) : inner[key];
        set => inner[key] = value;
    }

    public string Key => (inner as IConfigurationSection)?.Key ?? string.Empty;

    public string Path => (inner as IConfigurationSection)?.Path ?? string.Empty;

    public string? Value
    {
        get => (inner as IConfigurationSection)?.Value;
        set
        {
            if (inner is IConfigurationSection section)
            {
                section.Value = value;
            }
        }
    }

    public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren().Select(Wrap);

    public IChangeToken GetReloadToken() => inner.GetReloadToken();

    public IConfigurationSection GetSection(string key) => Wrap(inner.GetSection(key));

    private static bool IsInterval(string key) => IntervalSetting.PascalKeys.Contains(key, StringComparer.OrdinalIgnoreCase);

    private static IConfigurationSection Wrap(IConfigurationSection section) => IsInterval(section.Key) ? new IntervalValueSection(section) : section;
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>One interval setting of <see cref="IntervalWordsConfiguration"/>: its value translated from a word, everything else as it is.</summary>
internal sealed class IntervalValueSection(IConfigurationSection section) : IConfigurationSection
{
    public string? this[string key]
    {
        get => section[key];
        set => section[key] = value;
    }

    public string Key => section.Key;

    public string Path => section.Path;

    public string? Value
    {
        get => section.Value is { } text ? IntervalSetting.Normalize(section.Key, text) : null;
        set => section.Value = value;
    }

    public IEnumerable<IConfigurationSection> GetChildren() => section.GetChildren();

    public IChangeToken GetReloadToken() => section.GetReloadToken();

    public IConfigurationSection GetSection(string key) => section.GetSection(key);
}

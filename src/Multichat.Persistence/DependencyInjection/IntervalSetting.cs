using System.Globalization;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Reads a maintenance interval as the seed's settings file writes it: <c>"hourly"</c>, <c>"daily"</c>,
/// <c>"weekly"</c>, or a <see cref="TimeSpan"/> such as <c>"06:00:00"</c>.
/// </summary>
internal static class IntervalSetting
{
    /// <summary>The option names whose configuration values may be interval words.</summary>
    public static readonly string[] PascalKeys = ["CleanupInterval", "BackupInterval"];

    public static TimeSpan Parse(string key, string text) => TryParse(text, out var interval)
        ? interval
        : throw new InvalidOperationException(
            $"{key} '{text}' is not an interval; use \"hourly\", \"daily\", \"weekly\" or a TimeSpan such as \"06:00:00\".");

    public static bool TryParse(string text, out TimeSpan interval)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "hourly":
                interval = TimeSpan.FromHours(1);
                return true;
            case "daily":
                interval = TimeSpan.FromDays(1);
                return true;
            case "weekly":
                interval = TimeSpan.FromDays(7);
                return true;
            default:
                return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out interval);
        }
    }

    /// <summary>The value as the configuration binder reads a <see cref="TimeSpan"/> ("c" format).</summary>
    public static string Normalize(string key, string text) => Parse(key, text).ToString("c", CultureInfo.InvariantCulture);
}

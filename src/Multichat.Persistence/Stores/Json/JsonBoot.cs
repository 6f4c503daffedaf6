using System.IO.Hashing;
using System.Text;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// Tells whether a stamp was taken since the machine last booted. Until a reboot the page cache holds every byte any
/// process wrote to a memory-mapped file, even if that process was killed; only a reboot (power loss, crash) can lose
/// pages the kernel had not written back yet. So an id file stamped with the current boot is trusted as it stands in memory.
/// </summary>
internal static class JsonBoot
{
    // The boot time is derived from two clocks read at slightly different moments and rounded to seconds; clock
    // adjustments move it too. A few seconds of tolerance absorb that; a real reboot moves it by at least its own duration.
    private const long ToleranceSeconds = 5;

    /// <summary>When the machine booted, in Unix seconds, as this process sees it (the real clock on purpose: it is
    /// compared with the boot time other processes wrote, never with a store clock a test may fake).</summary>
    public static long Time { get; } = (TimeProvider.System.GetUtcNow() - TimeSpan.FromMilliseconds(Environment.TickCount64)).ToUnixTimeSeconds();

    /// <summary>
    /// A hash of Linux's per-boot random id, or 0 where there is none. Exact where the time is not: the monotonic clock
    /// behind <see cref="Environment.TickCount64"/> stops during suspend on Linux, which would look like a reboot.
    /// </summary>
    public static ulong Id { get; } = ReadBootId();

    public static bool IsCurrent(long time, ulong id) =>
        id != 0 && Id != 0 ? id == Id : Math.Abs(time - Time) <= ToleranceSeconds;

    private static ulong ReadBootId()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        try
        {
            var text = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            return text.Length == 0 ? 0 : XxHash3.HashToUInt64(Encoding.ASCII.GetBytes(text)) | 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}

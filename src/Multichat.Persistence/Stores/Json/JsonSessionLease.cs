using System.Diagnostics;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// One session's cross-process lock as this instance sees it: the lock file while this instance holds it (its lease),
/// the file through which waiting processes ask for it, and the times the lease logic decides by. Every member
/// is used only while <see cref="Gate"/> is held (the lease keeper only tries to take it).
/// </summary>
internal sealed class JsonSessionLease(string folder, int slot)
{
    /// <summary>The session's slot on the <see cref="JsonActivityBoard"/>.</summary>
    public int Slot { get; } = slot;

    public string LockPath { get; } = Path.Combine(folder, ".lock");

    public string WantPath { get; } = Path.Combine(folder, ".want");

    /// <summary>Serializes this instance's callers of the session.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The open lock file while this instance holds the session's lock (its lease).</summary>
    public FileStream? Lock { get; set; }

    /// <summary>Grows while another process waits for the lock, so the holder hands it over soon.</summary>
    public FileStream? Want { get; set; }

    public long AcquiredAt { get; set; }

    // Starts at creation, so a state just added counts as the most recently used and is not the first one evicted
    // (see JsonStore.EvictIdle) before its caller got to use it.
    public long LastUsed { get; set; } = Stopwatch.GetTimestamp();

    public long LastStamp { get; set; }

    /// <summary>After handing the lock to a waiter, this instance does not try to take it back before this time.</summary>
    public long CourtesyUntil { get; set; }
}

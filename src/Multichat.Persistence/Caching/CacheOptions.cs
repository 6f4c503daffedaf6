namespace Multichat.Persistence;

/// <summary>
/// The read cache (option group <c>Cache</c>): an in-process cache of hot sessions' records and their latest messages,
/// so an agent loop's "read the latest 50, append one, read again" is served from memory. Off by default.
/// </summary>
/// <remarks>
/// With the defaults the cache never serves a stale read: every read first asks the store for the session's head (one cheap read: a
/// record in memory, the Json session's state, one indexed SQLite row, one small Redis hash read from the primary) and
/// uses the cached copy only when it was read at that very head. Stored messages never change, so only the head can go
/// stale; a per-session epoch makes a deleted and re-created (or restored) session a different head even with the same
/// counts. Writes go to the store first; the cache never acknowledges anything. <see cref="MaxStaleness"/> trades that for
/// speed where the head check is a network round trip (Redis). See docs/architecture.md.
/// </remarks>
public sealed class CacheOptions
{
    /// <summary>The default of <see cref="MaxSessions"/>: 1,000.</summary>
    public const int DefaultMaxSessions = 1_000;

    /// <summary>The default of <see cref="MaxBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    /// <summary>The default of <see cref="MessagesPerSession"/>: 100.</summary>
    public const int DefaultMessagesPerSession = 100;

    /// <summary>Whether reads go through the cache. Default <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>How many sessions the cache holds at most; the least recently used go first. Default 1,000; 1 to 1,000,000.</summary>
    public int MaxSessions { get; set; } = DefaultMaxSessions;

    /// <summary>How many bytes of cached records and messages (estimated as .NET holds them: UTF-16 text plus object
    /// overhead) the cache holds at most; the least recently used sessions go first. Default 64 MiB; 64 KiB to 64 GiB.</summary>
    public long MaxBytes { get; set; } = DefaultMaxBytes;

    /// <summary>How many of a session's latest messages are cached; a read that needs older ones, or more of them, goes
    /// to the store. Default 100; 1 to 10,000.</summary>
    public int MessagesPerSession { get; set; } = DefaultMessagesPerSession;

    /// <summary>
    /// How long after the store last confirmed a cached session's head a read may be served without asking again.
    /// Default <see cref="TimeSpan.Zero"/>: every read asks, so none is ever stale. Above zero, a read may miss what
    /// <em>other</em> instances wrote in the last <see cref="MaxStaleness"/> (it still returns a set of messages the
    /// store held, never a mix: a window this instance's append extended is checked before it is served); this
    /// instance's own writes are always in its next read. Only the session record and
    /// pages without <see cref="MessageQuery.AfterSequence"/> (the latest messages) are served so; the change feed and
    /// read states always check. 0 to 1 hour.
    /// </summary>
    public TimeSpan MaxStaleness { get; set; }
}

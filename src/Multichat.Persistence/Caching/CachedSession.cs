namespace Multichat.Persistence.Caching;

/// <summary>
/// What the cache holds of one session, all read at one <see cref="Head"/>: the record (when a read asked for it) and
/// the latest messages, oldest first: the latest stored ones, so the last has the head's last sequence. Immutable but
/// for <see cref="CheckedAt"/>: a change builds a new entry, so a reader never sees one half-updated, and
/// <see cref="Bytes"/> never changes while the entry is counted.
/// </summary>
internal sealed class CachedSession
{
    /// <summary>The <see cref="CheckedAt"/> of an entry no head check has confirmed yet (one this instance's append
    /// extended, or one filled while this instance wrote): <see cref="CacheOptions.MaxStaleness"/> never serves it.</summary>
    public const long Unconfirmed = long.MinValue;

    private long _checkedAt;

    /// <param name="head">The store's head when this was read.</param>
    /// <param name="record">The session record at that head, or <see langword="null"/> when not cached.</param>
    /// <param name="window">The latest stored messages, oldest first, or <see langword="null"/> when not cached.</param>
    /// <param name="complete">Whether <paramref name="window"/> holds every stored message of the session.</param>
    /// <param name="checkedAt">The clock's timestamp (<see cref="TimeProvider.GetTimestamp"/>) taken before the store
    /// last reported <paramref name="head"/>.</param>
    public CachedSession(SessionHead head, ChatSession? record, ChatMessage[]? window, bool complete, long checkedAt)
    {
        _checkedAt = checkedAt;
        Head = head;
        Record = record;
        Window = window;
        Complete = complete;
        Bytes = 96 + (record is null ? 0 : CacheSizes.Of(record)) + (window is null ? 0 : CacheSizes.Of(window));
    }

    public SessionHead Head { get; }

    public ChatSession? Record { get; }

    public ChatMessage[]? Window { get; }

    public bool Complete { get; }

    /// <summary>When the store last confirmed <see cref="Head"/> (a timestamp taken before it was asked): what
    /// <see cref="CacheOptions.MaxStaleness"/> is measured from.</summary>
    public long CheckedAt => Volatile.Read(ref _checkedAt);

    /// <summary>About how many bytes .NET spends on this entry: what the cache's byte bound counts.</summary>
    public long Bytes { get; }

    /// <summary>This entry with the record read at the same head.</summary>
    public CachedSession WithRecord(ChatSession record, long checkedAt) => new(Head, record, Window, Complete, checkedAt);

    /// <summary>Notes that the store reported <see cref="Head"/> again, asked at <paramref name="timestamp"/>.</summary>
    public void Confirm(long timestamp)
    {
        // Concurrent readers confirm in any order; the newest confirmation wins.
        for (var seen = Volatile.Read(ref _checkedAt); seen < timestamp;)
        {
            var was = Interlocked.CompareExchange(ref _checkedAt, timestamp, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }
}

namespace Multichat.Persistence.Caching;

/// <summary>
/// What the cache holds of one session, all read at one <see cref="Head"/>: the record (when a read asked for it) and
/// the latest messages, oldest first: the latest stored ones, so the last has the head's last sequence. Immutable: a
/// change builds a new entry, so a reader never sees one half-updated, and <see cref="Bytes"/> never changes while the
/// entry is counted.
/// </summary>
internal sealed class CachedSession
{
    /// <param name="head">The store's head when this was read.</param>
    /// <param name="record">The session record at that head, or <see langword="null"/> when not cached.</param>
    /// <param name="window">The latest stored messages, oldest first, or <see langword="null"/> when not cached.</param>
    /// <param name="complete">Whether <paramref name="window"/> holds every stored message of the session.</param>
    public CachedSession(SessionHead head, ChatSession? record, ChatMessage[]? window, bool complete)
    {
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

    /// <summary>About how many bytes .NET spends on this entry: what the cache's byte bound counts.</summary>
    public long Bytes { get; }

    /// <summary>This entry with the record read at the same head.</summary>
    public CachedSession WithRecord(ChatSession record) => new(Head, record, Window, Complete);
}

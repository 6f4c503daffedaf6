using Multichat.Persistence.Backup;
using Multichat.Persistence.Diagnostics;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Caching;

/// <summary>
/// The read cache layer (above protection, so it holds plain values): serves <see cref="GetSessionAsync"/> and the
/// latest pages of <see cref="GetMessagesAsync"/> from memory while the store's head is the one they were read at.
/// </summary>
/// <remarks>
/// <para>Every read asks the store for the session's head first (<see cref="ISessionHeadSource"/>); a cached entry read
/// at another head is never served, so a completed write, by any instance, is in the next read, and a deleted and
/// re-created or restored session (another epoch) is never served from its old life.</para>
/// <para>Writes go to the store first and change the cache only after it acknowledged them: an append this instance
/// made extends the cached window with what the store returned, and its expected head is checked by the next read
/// like any other; every other write drops the session's entry.</para>
/// <para>An entry is only stored when what was read agrees with the head read before it; when a write slipped in
/// between, the read is answered but not cached.</para>
/// <para>With <see cref="CacheOptions.MaxStaleness"/> above zero, an entry whose head the store confirmed less than that
/// long ago is served without asking again. This instance's appends extend it without counting as a confirmation (so
/// what another instance did meanwhile shows within the bound), and its other writes drop it, so its own writes are
/// always in its next read.</para>
/// </remarks>
internal sealed class CachingSessionStore(ISessionStore inner, ISessionHeadSource heads, CacheOptions options, TimeProvider clock)
    : DelegatingSessionStore(inner)
{
    private readonly SessionCache _cache = new(options.MaxSessions, options.MaxBytes);
    // One message more than MessagesPerSession: a page of that many needs the one before it to tell whether a next page
    // exists, exactly as the stores fetch Limit + 1.
    private readonly int _windowSize = options.MessagesPerSession + 1;
    private readonly KeyValuePair<string, object?> _storeTag = new("multichat.store", inner.Name);
    private long _hits;
    private long _misses;

    // Counts this instance's writes. A read that saw it move while it read fills its entry unconfirmed, so with
    // MaxStaleness a read that raced this instance's own write never hides that write from the next read.
    private long _writes;

    /// <summary>The entries (tests and diagnostics).</summary>
    internal SessionCache Entries => _cache;

    /// <summary>Reads answered from memory (tests and diagnostics).</summary>
    internal long Hits => Interlocked.Read(ref _hits);

    /// <summary>Reads that went to the store (tests and diagnostics).</summary>
    internal long Misses => Interlocked.Read(ref _misses);

    public override async Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        if (Fresh(sessionId, cancellationToken) is { Record: { } fresh })
        {
            Hit();
            return fresh;
        }

        var writes = Volatile.Read(ref _writes);
        var checkedAt = clock.GetTimestamp();
        var head = await heads.GetHeadAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (head is not { } now)
        {
            _cache.Remove(sessionId);
            Miss();
            return await Inner.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        }

        var entry = _cache.Get(sessionId);
        if (entry is { Record: { } cached } && entry.Head == now)
        {
            entry.Confirm(checkedAt);
            Hit();
            return cached;
        }

        Miss();
        var record = await Inner.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (record is not null && Agrees(record, now))
        {
            if (entry is not null && entry.Head == now)
            {
                entry.Confirm(checkedAt);
                _cache.Set(sessionId, entry.WithRecord(record, Confirmation(checkedAt, writes)));
            }
            else
            {
                _cache.Set(sessionId, new CachedSession(now, record, null, false, Confirmation(checkedAt, writes)));
            }
        }

        return record;
    }

    public override async Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        // Only the latest page may skip the head check: a read after a sequence (the change feed catching up, a read
        // state) must see a write whose hint woke it, even before this layer has recorded that write.
        if (query.AfterSequence is null && Fresh(sessionId, cancellationToken) is { } fresh && CachedPages.TryAnswer(fresh, query, out var freshPage))
        {
            Hit();
            return freshPage;
        }

        var writes = Volatile.Read(ref _writes);
        var checkedAt = clock.GetTimestamp();
        var head = await heads.GetHeadAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (head is not { } now)
        {
            // No such session now: the store gives the same answer (and its exception) as without the cache.
            _cache.Remove(sessionId);
            Miss();
            return await Inner.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
        }

        var entry = _cache.Get(sessionId);
        if (entry is not null && entry.Head == now && CachedPages.TryAnswer(entry, query, out var cachedPage))
        {
            entry.Confirm(checkedAt);
            Hit();
            return cachedPage;
        }

        Miss();
        if (!CachedPages.WorthFilling(query, now, _windowSize))
        {
            return await Inner.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
        }

        var filled = await FillAsync(sessionId, now, checkedAt, writes, entry, cancellationToken).ConfigureAwait(false);
        if (filled is not null)
        {
            _cache.Set(sessionId, filled);
            if (CachedPages.TryAnswer(filled, query, out var page))
            {
                return page;
            }
        }

        return await Inner.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
    }

    public override async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<ChatMessage> stored;
        try
        {
            stored = await Inner.AppendMessagesAsync(sessionId, messages, limit, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A failed append may still have stored something (a timeout after the write): the next read finds out.
            Interlocked.Increment(ref _writes);
            _cache.Remove(sessionId);
            throw;
        }

        Interlocked.Increment(ref _writes);

        _cache.Update(sessionId, (Stored: stored, Limit: limit, Window: _windowSize), static (entry, a) => Extended(entry, a.Stored, a.Limit, a.Window));
        return stored;
    }

    public override Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default) =>
        Dropping(session.SessionId, Inner.CreateSessionAsync(session, limit, cancellationToken));

    public override Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        Dropping(session.SessionId, Inner.UpdateSessionAsync(session, cancellationToken));

    public override Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        Dropping(sessionId, Inner.DeleteSessionAsync(sessionId, cancellationToken));

    public override Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        Dropping(sessionId, Inner.TrimMessagesAsync(sessionId, keepLatest, cancellationToken));

    public override Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default) =>
        Dropping(session.SessionId, Inner.ImportSessionAsync(session, replaceExisting, cancellationToken));

    public override Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        Dropping(sessionId, Inner.ImportMessagesAsync(sessionId, messages, cancellationToken));

    public override Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken) =>
        Dropping(session.SessionId, base.ReplaceSessionAsync(session, batches, expected, cancellationToken));

    private void Hit()
    {
        Interlocked.Increment(ref _hits);
        PersistenceTelemetry.CacheHits.Add(1, _storeTag);
    }

    private void Miss()
    {
        Interlocked.Increment(ref _misses);
        PersistenceTelemetry.CacheMisses.Add(1, _storeTag);
    }

    /// <summary>Whether the record was read at <paramref name="head"/> (the epoch is not in the record; a new life read
    /// by mistake is never served, since the next head check sees the new epoch).</summary>
    private static bool Agrees(ChatSession record, SessionHead head) =>
        record.Version == head.Version && record.LastSequence == head.LastSequence && record.MessageCount == head.MessageCount;

    /// <summary>
    /// A window of the latest messages at <paramref name="head"/>: only the messages after the cached window when this
    /// life only grew by appends since (the count grew by as much as the last sequence), else the latest ones afresh.
    /// <see langword="null"/> when what came back does not agree with the head (a write slipped in between).
    /// </summary>
    private async Task<CachedSession?> FillAsync(string sessionId, SessionHead head, long checkedAt, long writes, CachedSession? old, CancellationToken cancellationToken)
    {
        var size = _windowSize;
        if (old is { Window: { Length: > 0 } window } && old.Head.Epoch == head.Epoch && head.LastSequence > old.Head.LastSequence
            && head.MessageCount - old.Head.MessageCount == head.LastSequence - old.Head.LastSequence
            && head.LastSequence - old.Head.LastSequence < size)
        {
            var added = (int)(head.LastSequence - old.Head.LastSequence);
            var after = await Inner.GetMessagesAsync(
                sessionId, new MessageQuery { AfterSequence = old.Head.LastSequence, Order = MessageOrder.OldestFirst, Limit = added }, cancellationToken).ConfigureAwait(false);
            if (after.Messages.Count == added && after.Messages[^1].Sequence == head.LastSequence)
            {
                return Windowed(head, [.. window, .. after.Messages], old.Complete, size, Confirmation(checkedAt, writes));
            }
        }

        var latest = await Inner.GetMessagesAsync(
            sessionId, new MessageQuery { Order = MessageOrder.NewestFirst, Limit = size }, cancellationToken).ConfigureAwait(false);
        var messages = new ChatMessage[latest.Messages.Count];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = latest.Messages[messages.Length - 1 - i];
        }

        var complete = latest.Next is null;
        var agrees = messages.Length == 0
            ? head.MessageCount == 0
            : messages[^1].Sequence == head.LastSequence && (!complete || messages.Length == head.MessageCount);
        return agrees ? new CachedSession(head, null, messages, complete, Confirmation(checkedAt, writes)) : null;
    }

    /// <summary>
    /// The entry after this instance's append: the window grown by the messages the store just assigned, when they
    /// follow the window's last sequence without a gap (so nobody else appended between), at the head that append
    /// leads to; <see langword="null"/> (drop the entry) otherwise. The next read checks that head like any other, also
    /// under <see cref="CacheOptions.MaxStaleness"/> (the entry is unconfirmed): the append proves nothing about trims
    /// or updates by others, and serving the grown window unchecked could mix two moments of the store.
    /// </summary>
    private static CachedSession? Extended(CachedSession entry, IReadOnlyList<ChatMessage> stored, MessageLimit limit, int size)
    {
        if (entry.Window is not { } window || stored.Count == 0)
        {
            return stored.Count == 0 ? entry : null;
        }

        var last = entry.Head.LastSequence;
        for (var i = 0; i < stored.Count; i++)
        {
            if (stored[i].Sequence != last + 1 + i)
            {
                return null;
            }
        }

        var lastSequence = last + stored.Count;
        var count = entry.Head.MessageCount + stored.Count;
        if (limit.Trims && count > limit.MaxMessages)
        {
            count = limit.MaxMessages;
        }

        var head = entry.Head with { LastSequence = lastSequence, MessageCount = count };
        var grown = new ChatMessage[window.Length + stored.Count];
        window.CopyTo(grown, 0);
        for (var i = 0; i < stored.Count; i++)
        {
            grown[window.Length + i] = stored[i];
        }

        // Messages a trim just removed leave the window too: the stored ones are the latest `count`.
        var firstKept = lastSequence - count;
        var kept = Array.FindIndex(grown, m => m.Sequence > firstKept);
        return Windowed(head, kept <= 0 ? grown : grown[kept..], entry.Complete, size, CachedSession.Unconfirmed);
    }

    /// <summary>An entry keeping at most <paramref name="size"/> of the latest messages (complete only if none had to go).</summary>
    private static CachedSession Windowed(SessionHead head, ChatMessage[] messages, bool complete, int size, long checkedAt) =>
        messages.Length <= size
            ? new CachedSession(head, null, messages, complete, checkedAt)
            : new CachedSession(head, null, messages[^size..], false, checkedAt);

    /// <summary>The session's entry when <see cref="CacheOptions.MaxStaleness"/> lets a read use it without asking the
    /// store (never with the default of zero).</summary>
    private CachedSession? Fresh(string sessionId, CancellationToken cancellationToken)
    {
        if (options.MaxStaleness <= TimeSpan.Zero)
        {
            return null;
        }

        // A cancelled read fails as it would at the store, also when memory could answer it.
        cancellationToken.ThrowIfCancellationRequested();
        return _cache.Get(sessionId) is { CheckedAt: not CachedSession.Unconfirmed } entry && clock.GetElapsedTime(entry.CheckedAt) < options.MaxStaleness
            ? entry
            : null;
    }

    /// <summary>When an entry read from <paramref name="checkedAt"/> on counts as confirmed: then, unless this instance
    /// wrote since <paramref name="writes"/> was read (its write may be newer than what was read).</summary>
    private long Confirmation(long checkedAt, long writes) => Volatile.Read(ref _writes) == writes ? checkedAt : CachedSession.Unconfirmed;

    private async Task<T> Dropping<T>(string sessionId, Task<T> write)
    {
        try
        {
            return await write.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Increment(ref _writes);
            _cache.Remove(sessionId);
        }
    }

    private async Task Dropping(string sessionId, Task write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Increment(ref _writes);
            _cache.Remove(sessionId);
        }
    }
}

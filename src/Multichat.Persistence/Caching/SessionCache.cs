namespace Multichat.Persistence.Caching;

/// <summary>
/// The cache's entries by session id, least recently used first out, bounded by entry count and by estimated bytes.
/// Both bounds hold after every call (eviction runs in the call that went over, not later), which is why this is not
/// <c>Microsoft.Extensions.Caching.Memory</c>: its size limit takes one unit and compacts in the background.
/// </summary>
internal sealed class SessionCache(int maxSessions, long maxBytes)
{
    private readonly Dictionary<string, LinkedListNode<(string Id, CachedSession Entry)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Id, CachedSession Entry)> _recency = new();
    private readonly object _gate = new();
    private long _bytes;

    /// <summary>How many sessions are cached now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The estimated bytes cached now (never above the bound).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>The entry for the session, marked as just used; <see langword="null"/> when none.</summary>
    public CachedSession? Get(string sessionId)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(sessionId, out var node))
            {
                return null;
            }

            _recency.Remove(node);
            _recency.AddLast(node);
            return node.Value.Entry;
        }
    }

    /// <summary>Stores the entry (replacing any), then evicts the least recently used until both bounds hold. An entry
    /// larger than the whole byte bound is not kept.</summary>
    public void Set(string sessionId, CachedSession entry)
    {
        lock (_gate)
        {
            RemoveLocked(sessionId);
            if (entry.Bytes > maxBytes)
            {
                return;
            }

            _entries[sessionId] = _recency.AddLast((sessionId, entry));
            _bytes += entry.Bytes;
            while (_entries.Count > maxSessions || _bytes > maxBytes)
            {
                RemoveLocked(_recency.First!.Value.Id);
            }
        }
    }

    /// <summary>Replaces the entry with what <paramref name="change"/> makes of it, atomically: <see langword="null"/>
    /// removes it. Nothing happens when there is no entry.</summary>
    public void Update<TState>(string sessionId, TState state, Func<CachedSession, TState, CachedSession?> change)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(sessionId, out var node))
            {
                return;
            }

            var next = change(node.Value.Entry, state);
            if (next is null)
            {
                RemoveLocked(sessionId);
            }
            else if (!ReferenceEquals(next, node.Value.Entry))
            {
                Set(sessionId, next);
            }
        }
    }

    /// <summary>Forgets the session.</summary>
    public void Remove(string sessionId)
    {
        lock (_gate)
        {
            RemoveLocked(sessionId);
        }
    }

    private void RemoveLocked(string sessionId)
    {
        if (_entries.Remove(sessionId, out var node))
        {
            _recency.Remove(node);
            _bytes -= node.Value.Entry.Bytes;
        }
    }
}

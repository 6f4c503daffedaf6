using System.Diagnostics;

namespace Multichat.Persistence.Stores.Json;

/// <summary>The bound on the per-session states a store instance keeps (see <see cref="EvictIdle"/>).</summary>
internal sealed partial class JsonStore
{
    // Each state holds an open messages file, often an id file mapping and a cached record: a process that backs up
    // or restores 10,000 sessions must not keep 10,000 of them (file descriptors, RSS). 1,024 stays far below the
    // usual descriptor limit and still covers a server's working set, so appends to busy sessions never pay a reopen.
    internal const int MaxStates = 1_024;

    // Evicting a batch below the cap makes the scan (one pass and a sort of ~1,000 entries) run once per 64 new
    // states, not once per new state.
    private const int EvictBatch = 64;

    private int _stateCount;
    private int _evicting;

    /// <summary>How many states this instance keeps (tests).</summary>
    internal int StateCount => _states.Count;

    /// <summary>Whether this instance keeps a state for the session (tests).</summary>
    internal bool Caches(string sessionId) => _states.ContainsKey(sessionId);

    /// <summary>
    /// Drops least recently used states until the count is <see cref="EvictBatch"/> below the cap, skipping any that is
    /// not safe to drop. Runs on the slow path only, in the caller that just added a state over the cap (not in the
    /// lease keeper: it walks only the held locks, and an evictable state holds none). One evictor at a time; the others
    /// go on without waiting, the cap is a target, not a limit a caller waits for.
    /// </summary>
    /// <remarks>
    /// Safe to drop means: its gate is free now (no caller of this instance uses it; we hold it while we drop it), and
    /// its lock is not held (the idle release already ended the lease, so there is no checkpoint or hand-over owed and
    /// nothing but closed handles to give up). It is removed as that exact instance, then marked evicted: a caller that
    /// fetched it before and takes its gate after sees the mark and looks the session up again (see RunAsync), so it
    /// never acts once dropped, and a new state for the session starts like any first use (lock, then Validate).
    /// </remarks>
    private void EvictIdle(JsonSessionState keep)
    {
        if (Interlocked.CompareExchange(ref _evicting, 1, 0) != 0)
        {
            return;
        }

        try
        {
            var excess = Volatile.Read(ref _stateCount) - (MaxStates - EvictBatch);
            if (excess <= 0 || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            // LastUsed is read without the gate: only an ordering hint, each candidate is checked under its gate.
            var entries = _states.ToArray();
            var lastUsed = new long[entries.Length];
            for (var i = 0; i < entries.Length; i++)
            {
                lastUsed[i] = entries[i].Value.Lease.LastUsed;
            }

            Array.Sort(lastUsed, entries);
            foreach (var entry in entries)
            {
                if (excess <= 0)
                {
                    break;
                }

                if (!ReferenceEquals(entry.Value, keep) && TryEvict(entry))
                {
                    excess--;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _evicting, 0);
        }
    }

    private bool TryEvict(KeyValuePair<string, JsonSessionState> entry)
    {
        var state = entry.Value;
        var lease = state.Lease;
        if (!lease.Gate.Wait(0))
        {
            return false;
        }

        try
        {
            // CourtesyUntil: we just handed the lock to a waiting process; a new state would forget to give it time.
            if (state.Evicted || lease.Lock is not null || lease.CourtesyUntil > Stopwatch.GetTimestamp() || !_states.TryRemove(entry))
            {
                return false;
            }

            Interlocked.Decrement(ref _stateCount);

            // The gate is never disposed: a caller that fetched the state before may still wait on it and release it.
            state.Evict(_context);
            return true;
        }
        finally
        {
            lease.Gate.Release();
        }
    }
}

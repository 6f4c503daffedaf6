using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Stores.Memory;

/// <summary>
/// Keeps sessions in process memory: for tests and prototypes. Thread-safe, and held to the same conformance suite
/// as the persistent stores, so code tested against it behaves the same on them.
/// </summary>
internal sealed partial class MemoryStore(TimeProvider clock, ILogger? logger = null) : ISessionStore, ISessionReplacer, ISessionHeadSource
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    private readonly ConcurrentDictionary<string, MemorySession> _sessions = new(StringComparer.Ordinal);

    // Creates under a limit take this gate, so counting, evicting and adding are one step; deletes need not: they
    // only lower the count.
    private readonly object _createGate = new();

    public string Name => "memory";

    public Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = clock.GetUtcNow();
        var record = SessionRecords.New(session, now);
        var state = new MemorySession(record);
        if (!limit.IsLimited)
        {
            Add(state);
            return Task.FromResult(record);
        }

        lock (_createGate)
        {
            if (_sessions.ContainsKey(session.SessionId))
            {
                throw SessionAlreadyExistsException.ForSession(session.SessionId);
            }

            while (_sessions.Count >= limit.MaxSessions)
            {
                if (!limit.Evicts)
                {
                    throw QuotaExceededException.ForSessions(limit.MaxSessions);
                }

                var victim = LeastRecentlyActive();
                if (Remove(victim))
                {
                    SessionEvictionLog.Report(_logger, Name, victim, session.SessionId, limit.MaxSessions);
                }
            }

            Add(state);
        }

        return Task.FromResult(record);
    }

    /// <summary>The session <see cref="ListSessionsAsync"/> lists last: the oldest activity, then the lowest id.</summary>
    private string LeastRecentlyActive()
    {
        ChatSession? last = null;
        foreach (var snapshot in Snapshots())
        {
            if (last is null || SessionCursor.CompareForListing(snapshot, last) > 0)
            {
                last = snapshot;
            }
        }

        return last!.SessionId;
    }

    private void Add(MemorySession state)
    {
        if (!_sessions.TryAdd(state.Record.SessionId, state))
        {
            throw SessionAlreadyExistsException.ForSession(state.Record.SessionId);
        }
    }

    public Task<SessionHead?> GetHeadAsync(string sessionId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Enter(sessionId) is not { } state)
        {
            return Task.FromResult<SessionHead?>(null);
        }

        try
        {
            return Task.FromResult(state.Deleted ? null : (SessionHead?)state.Head);
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }
    }

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Enter(sessionId) is not { } state)
        {
            return Task.FromResult<ChatSession?>(null);
        }

        try
        {
            return Task.FromResult(state.Deleted ? null : state.Snapshot());
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }
    }

    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = EnterLive(session.SessionId);
        try
        {
            if (state.Record.Version != session.Version)
            {
                throw ConcurrencyConflictException.ForSession(session.SessionId, session.Version, state.Record.Version);
            }

            state.UpdatedAt = clock.GetUtcNow();
            state.Record = state.Record with
            {
                Participants = [.. session.Participants],
                Title = session.Title,
                Metadata = MetadataCopy.Of(session.Metadata),
                Version = state.Record.Version + 1,
            };
            return Task.FromResult(state.Snapshot());
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }
    }

    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Remove(sessionId));
    }

    private bool Remove(string sessionId)
    {
        if (!_sessions.TryRemove(sessionId, out var state))
        {
            return false;
        }

        lock (state.Gate)
        {
            state.Deleted = true;
        }

        _signals.Notify(sessionId);
        return true;
    }

    public Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(SessionListing.Page(Snapshots(), query));
    }

    public async IAsyncEnumerable<string> ListSessionIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var id in _sessions.Keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return id;
        }
    }

    public Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = EnterLive(sessionId);
        ChatMessage[] stored;
        try
        {
            var now = clock.GetUtcNow();

            // Everything that can fail is decided before the first message is added: the batch is all or nothing.
            var next = state.LastSequence;
            stored = BatchSequencer.Assign(messages, ref next, now, state, static (s, id) => s.ById.GetValueOrDefault(id));
            var added = (int)(next - state.LastSequence);
            if (limit.Refuses(state.Count, added))
            {
                throw QuotaExceededException.ForMessages(sessionId, state.Count, added, limit.MaxMessages);
            }

            if (next != state.LastSequence)
            {
                for (var i = 0; i < stored.Length; i++)
                {
                    if (stored[i].Sequence > state.LastSequence)
                    {
                        state.Add(stored[i]);
                    }
                }

                state.UpdatedAt = now;
            }

            if (limit.Trims)
            {
                state.TrimTo(limit.MaxMessages);
            }
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }

        _signals.Notify(sessionId);
        return Task.FromResult<IReadOnlyList<ChatMessage>>(stored);
    }

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = EnterLive(sessionId);
        List<ChatMessage> fetched;
        try
        {
            fetched = state.Fetch(query, MessagePaging.FetchCount(query));
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }

        return Task.FromResult(MessagePaging.ToPage(query, fetched));
    }

    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Enter(sessionId) is not { } state)
        {
            return Task.FromResult(0L);
        }

        try
        {
            return Task.FromResult(state.Deleted ? 0 : state.TrimTo(keepLatest));
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }
    }

    public Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = new MemorySession(SessionRecords.Imported(session));
        if (replaceExisting)
        {
            if (_sessions.TryRemove(session.SessionId, out var old))
            {
                Retire(old);
            }

            _sessions[session.SessionId] = state;
        }
        else if (!_sessions.TryAdd(session.SessionId, state))
        {
            throw SessionAlreadyExistsException.ForSession(session.SessionId);
        }

        _signals.Notify(session.SessionId);
        return Task.CompletedTask;
    }

    public async Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken)
    {
        // Built aside and swapped in whole: a reader sees the old session until the new one is complete, and a failure
        // while reading the batches leaves the old one untouched.
        var state = new MemorySession(SessionRecords.Imported(session));
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            ImportChecks.EnsureAscending(batch, state.LastStoredSequence);
            foreach (var message in batch)
            {
                state.Add(MessageRecords.Imported(message));
            }
        }

        while (!Swap(session.SessionId, state, expected))
        {
        }

        _signals.Notify(session.SessionId);
    }

    /// <summary>
    /// Puts <paramref name="state"/> in the place of the stored session, under the old state's gate: no write lands on
    /// the old state once it is swapped out (one that waited for the gate goes on with the new state, see
    /// <see cref="Enter"/>), and with <paramref name="expected"/> none lands between the check and the swap. False when
    /// the session was added or removed meanwhile and an unguarded swap must look again.
    /// </summary>
    /// <exception cref="ConcurrencyConflictException">The stored session is missing or does not meet <paramref name="expected"/>.</exception>
    private bool Swap(string sessionId, MemorySession state, ReplacementExpectation? expected)
    {
        if (Enter(sessionId) is not { } old)
        {
            return expected is { } missing ? throw missing.Conflict(sessionId, storedVersion: null) : _sessions.TryAdd(sessionId, state);
        }

        try
        {
            if (expected is { } expectation)
            {
                var stored = old.Deleted ? null : old.Snapshot();
                if (!expectation.IsMetBy(stored))
                {
                    throw expectation.Conflict(sessionId, stored);
                }
            }

            // A guarded replacement (re-encryption) continues the session's life: its epoch and read cursors go on, copied
            // under the old state's gate, so no mark is lost in between. An unguarded one (restore) starts a new life.
            if (expected is not null)
            {
                state.Continue(old);
            }

            // A delete removes the entry before it takes the gate: the swap then finds the session gone.
            if (!_sessions.TryUpdate(sessionId, state, old))
            {
                return expected is { } gone ? throw gone.Conflict(sessionId, storedVersion: null) : false;
            }

            old.Deleted = true;
            old.Replaced = true;
            return true;
        }
        finally
        {
            Monitor.Exit(old.Gate);
        }
    }

    public Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = EnterLive(sessionId);
        try
        {
            ImportChecks.EnsureAscending(messages, state.LastStoredSequence);
            foreach (var message in messages)
            {
                state.Add(MessageRecords.Imported(message));
            }
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }

        _signals.Notify(sessionId);
        return Task.CompletedTask;
    }

    public Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new HealthReport
        {
            Status = StoreHealthStatus.Healthy,
            Store = Name,
            Description = $"{_sessions.Count} sessions in memory.",
        });

    public Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        long sessions = 0, messages = 0;
        foreach (var state in _sessions.Values)
        {
            lock (state.Gate)
            {
                sessions++;
                messages += state.Count;
            }
        }

        return Task.FromResult(new StoreStatistics { Store = Name, SessionCount = sessions, MessageCount = messages });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// The session's state with its gate taken (the caller exits it), or null when there is none. A state a replacement
    /// swapped out is looked up again, so a caller that found it just before the swap acts on the new one instead of
    /// failing as if the session had been deleted; a deleted one is returned as it is (the caller checks).
    /// </summary>
    private MemorySession? Enter(string sessionId)
    {
        while (_sessions.TryGetValue(sessionId, out var state))
        {
            Monitor.Enter(state.Gate);
            if (!state.Replaced)
            {
                return state;
            }

            Monitor.Exit(state.Gate);
        }

        return null;
    }

    /// <summary><see cref="Enter"/> for a session that must exist.</summary>
    /// <exception cref="SessionNotFoundException">There is no such session, or it was deleted.</exception>
    private MemorySession EnterLive(string sessionId)
    {
        var state = Enter(sessionId) ?? throw SessionNotFoundException.ForSession(sessionId);
        if (state.Deleted)
        {
            Monitor.Exit(state.Gate);
            throw SessionNotFoundException.ForSession(sessionId);
        }

        return state;
    }

    /// <summary>Marks a state that another took the place of, under its gate (see <see cref="Enter"/>).</summary>
    private static void Retire(MemorySession old)
    {
        lock (old.Gate)
        {
            old.Deleted = true;
            old.Replaced = true;
        }
    }

    private IEnumerable<ChatSession> Snapshots()
    {
        foreach (var state in _sessions.Values)
        {
            ChatSession? snapshot;
            lock (state.Gate)
            {
                snapshot = state.Deleted ? null : state.Snapshot();
            }

            if (snapshot is not null)
            {
                yield return snapshot;
            }
        }
    }
}

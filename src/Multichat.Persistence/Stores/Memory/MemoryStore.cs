using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Multichat.Persistence.Backup;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Stores.Memory;

/// <summary>
/// Keeps sessions in process memory: for tests and prototypes. Thread-safe, and held to the same conformance suite
/// as the persistent stores, so code tested against it behaves the same on them.
/// </summary>
internal sealed class MemoryStore(TimeProvider clock, ILogger? logger = null) : ISessionStore, ISessionReplacer
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

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_sessions.TryGetValue(sessionId, out var state))
        {
            return Task.FromResult<ChatSession?>(null);
        }

        lock (state.Gate)
        {
            return Task.FromResult(state.Deleted ? null : state.Snapshot());
        }
    }

    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = Find(session.SessionId);
        lock (state.Gate)
        {
            EnsureLive(state, session.SessionId);
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
        var state = Find(sessionId);
        ChatMessage[] stored;
        lock (state.Gate)
        {
            EnsureLive(state, sessionId);
            var now = clock.GetUtcNow();

            // Everything that can fail is decided before the first message is added: the batch is all or nothing.
            var next = state.LastSequence;
            stored = BatchSequencer.Assign(messages, ref next, now, state, static (s, id) => s.ById.GetValueOrDefault(id));
            if (limit.Refuses(state.Count, (int)(next - state.LastSequence)))
            {
                throw QuotaExceededException.ForMessages(sessionId, state.Count, (int)(next - state.LastSequence), limit.MaxMessages);
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

        return Task.FromResult<IReadOnlyList<ChatMessage>>(stored);
    }

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = Find(sessionId);
        List<ChatMessage> fetched;
        lock (state.Gate)
        {
            EnsureLive(state, sessionId);
            fetched = state.Fetch(query, MessagePaging.FetchCount(query));
        }

        return Task.FromResult(MessagePaging.ToPage(query, fetched));
    }

    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_sessions.TryGetValue(sessionId, out var state))
        {
            return Task.FromResult(0L);
        }

        lock (state.Gate)
        {
            return Task.FromResult(state.Deleted ? 0 : state.TrimTo(keepLatest));
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
                lock (old.Gate)
                {
                    old.Deleted = true;
                }
            }

            _sessions[session.SessionId] = state;
        }
        else if (!_sessions.TryAdd(session.SessionId, state))
        {
            throw SessionAlreadyExistsException.ForSession(session.SessionId);
        }

        return Task.CompletedTask;
    }

    public async Task ReplaceSessionAsync(ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken)
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

        while (true)
        {
            if (_sessions.TryGetValue(session.SessionId, out var old))
            {
                if (_sessions.TryUpdate(session.SessionId, state, old))
                {
                    lock (old.Gate)
                    {
                        old.Deleted = true;
                    }

                    return;
                }
            }
            else if (_sessions.TryAdd(session.SessionId, state))
            {
                return;
            }
        }
    }

    public Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = Find(sessionId);
        lock (state.Gate)
        {
            EnsureLive(state, sessionId);
            ImportChecks.EnsureAscending(messages, state.LastStoredSequence);
            foreach (var message in messages)
            {
                state.Add(MessageRecords.Imported(message));
            }
        }

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

    private MemorySession Find(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var state) ? state : throw SessionNotFoundException.ForSession(sessionId);

    private static void EnsureLive(MemorySession state, string sessionId)
    {
        if (state.Deleted)
        {
            throw SessionNotFoundException.ForSession(sessionId);
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

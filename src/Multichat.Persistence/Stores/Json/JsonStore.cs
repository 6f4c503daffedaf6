using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Feed;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The embedded default store: one folder per session under <c>{root}/sessions/</c>, holding <c>session.json</c>
/// (replaced atomically), <c>messages.jsonl</c> (append-only, one message a line) and, once a participant marked it
/// read, <c>reads.json</c> (see JsonStore.Feed.cs). Several processes may open the
/// same root: each session has a lock file, and the instance that took it keeps it while it stays busy (a lease, see
/// <see cref="JsonLeases"/>), so a run of appends pays one write each and nothing for coordination; a waiting process
/// makes the holder hand it over within milliseconds. See docs/storage/json.md.
/// </summary>
internal sealed partial class JsonStore : ISessionStore, ISessionReplacer, ISessionHeadSource
{
    private readonly JsonStoreContext _context;
    private readonly ConcurrentDictionary<string, JsonSessionState> _states = new(StringComparer.Ordinal);
    private readonly JsonLeases _leases;
    private readonly JsonCatalog _catalog;
    private readonly JsonSessionCount _count;
    private int _disposed;

    // Set by the first create under a limit: from then on this instance's deletes lower the session count too, so a
    // store kept at its limit by evictions does not count its sessions again after every delete.
    private volatile bool _counting;

    public JsonStore(JsonStoreOptions options, ILoggerFactory loggerFactory)
    {
        var root = Path.GetFullPath(options.RootPath);
        var logger = loggerFactory.CreateLogger<JsonStore>();
        var files = FileCreator.For(options.FilePermissions);
        JsonActivityBoard board;
        try
        {
            files.CreateFolder(Path.Combine(root, "sessions"));
            JsonFormat.Ensure(root, files);
            board = new JsonActivityBoard(Path.Combine(root, "activity.bin"), files);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException(
                $"The Json store cannot open its folder '{root}': {ex.Message} Check StoragePath and the process's permissions.", ex);
        }

        _context = new JsonStoreContext(root, options.TimeProvider, logger, options.Durability == Durability.Full, options.LockTimeout, board, options.Faults, files);
        _leases = new JsonLeases(_context);
        _catalog = new JsonCatalog(_context);
        _count = new JsonSessionCount(_context, _catalog);
        _signals = new MessageSignalHub(FeedPoll, WatchFolder);
    }

    /// <summary>The store's name in telemetry and logs.</summary>
    internal const string StoreName = "json";

    public string Name => StoreName;

    public Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default)
    {
        if (!limit.IsLimited)
        {
            return CreateSessionAsync(session, counted: false, cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _counting = true;
        var sessionPath = Path.Combine(_context.SessionsFolder, JsonSessionKey.For(session.SessionId), "session.json");

        // An eviction is the ordinary delete (the victim's lock, then its files), run while the count lock is held; the
        // session count lowers the count itself, so it gets the delete that leaves the count alone.
        return OnCountAsync(_count.CreateAsync(
            limit,
            session.SessionId,
            sessionPath,
            ct => CreateSessionAsync(session, counted: true, ct),
            DeleteSessionCoreAsync,
            cancellationToken));
    }

    private Task<ChatSession> CreateSessionAsync(ChatSession session, bool counted, CancellationToken cancellationToken) =>
        RunAsync(session.SessionId, create: true, (Context: _context, Session: session, Counted: counted), static (state, a) =>
        {
            if (state.Document is not null)
            {
                throw SessionAlreadyExistsException.ForSession(a.Session.SessionId);
            }

            var record = SessionRecords.New(a.Session, a.Context.Clock.GetUtcNow());
            try
            {
                state.Reset(a.Context, JsonSessionDocument.From(record, JsonStoreContext.NewIncarnation()));
            }
            finally
            {
                StampSessionsChanged(a.Context, counted: a.Counted);
            }

            return state.Snapshot();
        }, missing: null, cancellationToken);

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, 0, static (state, _) => state.Document is null ? null : state.Snapshot(), static _ => (ChatSession?)null, cancellationToken);

    /// <summary>
    /// The head through the same lease and validation as <see cref="GetSessionAsync"/> (so another process's completed
    /// write is seen), answered from the record and the lines the state already knows: no message is read.
    /// </summary>
    public Task<SessionHead?> GetHeadAsync(string sessionId, CancellationToken cancellationToken) =>
        RunAsync(sessionId, create: false, 0, static (state, _) => state.Document is null ? null : (SessionHead?)state.Head, static _ => (SessionHead?)null, cancellationToken);

    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        RunAsync(session.SessionId, create: false, (Context: _context, Session: session), static (state, a) =>
        {
            var session = a.Session;
            var document = state.Document ?? throw SessionNotFoundException.ForSession(session.SessionId);
            if (document.Version != session.Version)
            {
                throw ConcurrencyConflictException.ForSession(session.SessionId, session.Version, document.Version);
            }

            var current = state.Snapshot();
            document.Participants = [.. session.Participants];
            document.Title = session.Title;
            document.Metadata = JsonSessionDocument.CopyOf(session.Metadata);
            document.Version++;
            document.UpdatedAt = a.Context.Clock.GetUtcNow();
            document.LastSequence = current.LastSequence;
            state.Replace(a.Context, document);
            return state.Snapshot();
        }, NotFound<ChatSession>, cancellationToken);

    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _counting
            ? OnCountAsync(_count.DeleteAsync(() => DeleteSessionCoreAsync(sessionId, cancellationToken), cancellationToken))
            : DeleteSessionCoreAsync(sessionId, cancellationToken);

    /// <summary>The delete itself; without the count lock the session count is left alone (it stays an upper bound).</summary>
    private Task<bool> DeleteSessionCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        RunAsync(sessionId, create: false, (Context: _context, Signals: _signals, Id: sessionId), static (state, a) =>
        {
            if (state.Document is null)
            {
                return false;
            }

            try
            {
                state.Delete(a.Context);
            }
            finally
            {
                StampSessionsChanged(a.Context, counted: true);

                // Its watchers find the session gone (also after a delete that failed part way: it may be gone).
                a.Signals.Notify(a.Id);
            }

            return true;
        }, static _ => false, cancellationToken);

    public Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(SessionListing.Page(Sessions(), query));
    }

    public async IAsyncEnumerable<string> ListSessionIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var session in Sessions())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return session.SessionId;
        }
    }

    public Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Context: _context, Messages: messages, Limit: limit, Id: sessionId, Signals: _signals), static (state, a) =>
        {
            if (state.Document is null)
            {
                throw SessionNotFoundException.ForSession(a.Id);
            }

            // Under the session's lock, like the append itself: a Reject check here cannot be passed by two appenders.
            var stored = state.Append(a.Context, a.Messages, a.Context.Clock.GetUtcNow(), a.Limit);
            if (a.Limit.Trims)
            {
                state.Trim(a.Context, a.Limit.MaxMessages, compact: false);
            }

            // This instance's watchers wake now, without waiting for the file watcher; they read once we let go of the gate.
            a.Signals.Notify(a.Id);
            return stored;
        }, NotFound<IReadOnlyList<ChatMessage>>, cancellationToken);

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Context: _context, Query: query, Id: sessionId), static (state, a) =>
        {
            if (state.Document is null)
            {
                throw SessionNotFoundException.ForSession(a.Id);
            }

            return MessagePaging.ToPage(a.Query, state.Fetch(a.Context, a.Query, MessagePaging.FetchCount(a.Query)));
        }, NotFound<MessagePage>, cancellationToken);

    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Context: _context, Keep: keepLatest), static (state, a) =>
            state.Document is null ? 0 : state.Trim(a.Context, a.Keep, compact: true), static _ => 0L, cancellationToken);

    public Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default) =>
        RunAsync(session.SessionId, create: true, (Context: _context, Session: session, Replace: replaceExisting, Signals: _signals), static (state, a) =>
        {
            var session = a.Session;
            if (state.Document is not null && !a.Replace)
            {
                throw SessionAlreadyExistsException.ForSession(session.SessionId);
            }

            try
            {
                state.Reset(a.Context, JsonSessionDocument.From(SessionRecords.Imported(session), JsonStoreContext.NewIncarnation()));
            }
            finally
            {
                // Imports do not keep the session count: the next create under a limit counts again.
                StampSessionsChanged(a.Context, counted: false);

                // A replaced session's watchers find its new life.
                a.Signals.Notify(session.SessionId);
            }

            return true;
        }, missing: null, cancellationToken);

    public Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return JsonSessionReplacement.ReplaceAsync(
            _context,
            session,
            batches,
            expected,
            commit => RunAsync(session.SessionId, create: true, (Commit: commit, Signals: _signals, Id: session.SessionId), static (state, a) =>
            {
                try
                {
                    return a.Commit(state);
                }
                finally
                {
                    a.Signals.Notify(a.Id);
                }
            }, missing: null, cancellationToken),
            cancellationToken);
    }

    public Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Context: _context, Messages: messages, Id: sessionId, Signals: _signals), static (state, a) =>
        {
            if (state.Document is null)
            {
                throw SessionNotFoundException.ForSession(a.Id);
            }

            state.Import(a.Context, a.Messages);
            a.Signals.Notify(a.Id);
            return true;
        }, NotFound<bool>, cancellationToken);

    public Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            JsonFormat.Ensure(_context.Root, _context.Files);
            var sessions = Sessions().Length;
            var damaged = _context.Damaged;
            return Task.FromResult(new HealthReport
            {
                Status = damaged > 0 ? StoreHealthStatus.Degraded : StoreHealthStatus.Healthy,
                Store = Name,
                Description = damaged > 0
                    ? $"{sessions} sessions; {damaged} damaged message lines or session records were skipped (see the log). The others are served."
                    : $"{sessions} sessions in '{_context.Root}'.",
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SessionPersistenceException)
        {
            return Task.FromResult(new HealthReport { Status = StoreHealthStatus.Unhealthy, Store = Name, Description = ex.Message, Exception = ex });
        }
    }

    public Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var sessions = Sessions();
        long messages = 0;
        foreach (var session in sessions)
        {
            messages += session.MessageCount;
        }

        return Task.FromResult(new StoreStatistics { Store = Name, SessionCount = sessions.Length, MessageCount = messages });
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Feeds waiting for a hint read now, find the store disposed and end, which stops their file watchers.
        _signals.NotifyAll();
        _leases.Close();
        foreach (var state in _states.Values)
        {
            await state.Lease.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (state.Lease.Lock is null && state.Ids.HasUnsynced)
                {
                    _leases.LockForCheckpoint(state);
                }

                _leases.Release(state, final: true);
                state.Log.Close();
                state.Ids.Close(_context);
            }
            finally
            {
                state.Lease.Gate.Release();
            }
        }

        _context.Board.Dispose();
        _count.Dispose();
    }

    private ChatSession[] Sessions()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return _catalog.Sessions();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"The Json store at '{_context.Root}' could not list its sessions: {ex.Message}", ex);
        }
    }

    /// <summary>Failures of the session count file itself (those of a session's files are already translated).</summary>
    private async Task<T> OnCountAsync<T>(Task<T> operation)
    {
        try
        {
            return await operation.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"The Json store at '{_context.Root}' could not read or write its session count: {ex.Message}", ex);
        }
    }

    private async Task<T> RunAsync<TArg, T>(
        string sessionId, bool create, TArg arg, Func<JsonSessionState, TArg, T> work, Func<string, T>? missing, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // One budget for the whole wait, the queue in this instance and the lock held by another process alike.
        var started = Stopwatch.GetTimestamp();
        JsonSessionState? state;
        while (true)
        {
            // Keyed by the id itself, so the hot path never hashes it into a folder name again.
            if (!_states.TryGetValue(sessionId, out state))
            {
                var key = JsonSessionKey.For(sessionId);
                var folder = Path.Combine(_context.SessionsFolder, key);

                // Reads of a session that never existed create nothing, not even its folder.
                if (!create && !Directory.Exists(folder))
                {
                    return missing!(sessionId);
                }

                var added = new JsonSessionState(key, folder, JsonSessionKey.SlotOf(key, JsonActivityBoard.Slots), _context.Files);
                state = _states.GetOrAdd(sessionId, added);
                if (ReferenceEquals(state, added) && Interlocked.Increment(ref _stateCount) > MaxStates)
                {
                    EvictIdle(added);
                }
            }

            if (!await state.Lease.Gate.WaitAsync(_context.LockTimeout, cancellationToken).ConfigureAwait(false))
            {
                JsonStoreLog.GateTimedOut(_context.Logger, _context.LockTimeout.TotalSeconds);
                throw new StoreUnavailableException(
                    $"A session of the Json store at '{_context.Root}' stayed busy in this instance for {_context.LockTimeout.TotalSeconds:0} s (JsonLockTimeout); an operation on it may be stuck. Retry later.");
            }

            if (!state.Evicted)
            {
                break;
            }

            // Evicted between our lookup and the gate: its files are closed and it is out of the cache, so the session
            // is looked up again (a new state, which takes the lock and reads the folder like any first use).
            state.Lease.Gate.Release();
        }

        var lease = state.Lease;
        try
        {
            if (create)
            {
                _context.Files.CreateFolder(state.Folder);
            }
            else if (lease.Lock is null && !Directory.Exists(state.Folder))
            {
                return missing!(sessionId);
            }

            if (lease.Lock is null)
            {
                await _leases.AcquireAsync(state, started, cancellationToken).ConfigureAwait(false);
            }

            if (state.Document is { } document && !string.Equals(document.SessionId, sessionId, StringComparison.Ordinal))
            {
                throw new StoreCorruptedException(
                    $"The folder of session '{sessionId}' holds the record of another session; the store's files were moved by hand.");
            }

            return work(state, arg);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // What we cached may no longer match the files: let go of the lock and read everything again next time.
            _leases.Release(state, unmap: true);
            state.Forget();
            throw new StoreUnavailableException(
                $"The Json store at '{_context.Root}' could not read or write a session's files: {ex.Message}", ex);
        }
        finally
        {
            lease.LastUsed = Stopwatch.GetTimestamp();
            lease.Gate.Release();
        }
    }

    /// <summary>
    /// Tells listings (slot 0) and, for a create or import that kept no session count, the count (the uncounted slot)
    /// that the set of sessions may have changed. Also after a create, import or delete that failed part way: its record
    /// may already be in place (or gone), and a listing or count that missed it would stay wrong until the next change.
    /// </summary>
    private static void StampSessionsChanged(JsonStoreContext context, bool counted)
    {
        context.Board.Stamp(0, held: false);
        if (!counted)
        {
            context.Board.Stamp(JsonActivityBoard.UncountedSlot, held: false);
        }
    }

    private static T NotFound<T>(string sessionId) => throw SessionNotFoundException.ForSession(sessionId);
}

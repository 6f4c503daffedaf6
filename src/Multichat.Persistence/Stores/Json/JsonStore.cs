using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The embedded default store: one folder per session under <c>{root}/sessions/</c>, holding <c>session.json</c>
/// (replaced atomically) and <c>messages.jsonl</c> (append-only, one message a line). Several processes may open the
/// same root: each session has a lock file, and the instance that took it keeps it while it stays busy (a lease), so a
/// run of appends pays one write each and nothing for coordination; a waiting process makes the holder hand it over
/// within milliseconds. See docs/storage/json.md.
/// </summary>
internal sealed class JsonStore : ISessionStore
{
    private static readonly long IdleRelease = Stopwatch.Frequency * 2 / 1000;
    private static readonly long MinSlice = Stopwatch.Frequency * 2 / 1000;
    private static readonly long Courtesy = Stopwatch.Frequency * 3 / 1000;
    private static readonly long Restamp = Stopwatch.Frequency * 10 / 1000;

    // Id files stay mapped across leases, so the next append to a session needs no new mapping. Past this many, an idle
    // session's mapping is closed when its lease ends: a process writing to 100,000 sessions must not hold 100,000
    // mappings (Linux allows about 65,000 per process).
    private const int MaxMappedIds = 256;

    private static readonly JsonStoreJsonContext Json = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    });

    private readonly string _root;
    private readonly string _sessionsFolder;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly TimeSpan _lockTimeout;
    private readonly ConcurrentDictionary<string, JsonSessionState> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<JsonSessionState, byte> _held = new();
    private readonly JsonActivityBoard _board;
    private readonly JsonCatalog _catalog;
    private readonly JsonSessionCount _count;
    private long _damaged;
    private int _mappedIds;
    private int _disposed;

    // Set by the first create under a limit: from then on this instance's deletes lower the session count too, so a
    // store kept at its limit by evictions does not count its sessions again after every delete.
    private volatile bool _counting;

    public JsonStore(JsonStoreOptions options, ILoggerFactory loggerFactory)
    {
        _root = Path.GetFullPath(options.RootPath);
        _clock = options.TimeProvider;
        _logger = loggerFactory.CreateLogger<JsonStore>();
        _lockTimeout = options.LockTimeout;
        FlushToDisk = options.Durability == Durability.Full;
        _sessionsFolder = Path.Combine(_root, "sessions");
        try
        {
            Directory.CreateDirectory(_sessionsFolder);
            EnsureFormat();
            _board = new JsonActivityBoard(Path.Combine(_root, "activity.bin"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException(
                $"The Json store cannot open its folder '{_root}': {ex.Message} Check StoragePath and the process's permissions.", ex);
        }

        _catalog = new JsonCatalog(this, _sessionsFolder, _board);
        _count = new JsonSessionCount(_root, _sessionsFolder, _board, _lockTimeout, _logger);
    }

    public string Name => "json";

    /// <summary>Whether writes are flushed to the disk before they are acknowledged (<see cref="Durability.Full"/>).</summary>
    public bool FlushToDisk { get; }

    public static string NewIncarnation() => Guid.NewGuid().ToString("N");

    public Task<ChatSession> CreateSessionAsync(ChatSession session, int maxSessions, CancellationToken cancellationToken = default)
    {
        if (maxSessions <= 0)
        {
            return CreateSessionAsync(session, counted: false, cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _counting = true;
        var sessionPath = Path.Combine(_sessionsFolder, JsonSessionKey.For(session.SessionId), "session.json");
        return OnCountAsync(_count.CreateAsync(
            maxSessions, session.SessionId, sessionPath, () => CreateSessionAsync(session, counted: true, cancellationToken), cancellationToken));
    }

    private Task<ChatSession> CreateSessionAsync(ChatSession session, bool counted, CancellationToken cancellationToken) =>
        RunAsync(session.SessionId, create: true, (Store: this, Session: session, Counted: counted), static (state, a) =>
        {
            if (state.Document is not null)
            {
                throw SessionAlreadyExistsException.ForSession(a.Session.SessionId);
            }

            var now = a.Store._clock.GetUtcNow();
            state.Reset(a.Store, new JsonSessionDocument
            {
                SessionId = a.Session.SessionId,
                Participants = [.. a.Session.Participants],
                Title = a.Session.Title,
                Metadata = Copy(a.Session.Metadata),
                CreatedAt = now,
                UpdatedAt = now,
                Version = 1,
                Incarnation = NewIncarnation(),
            });
            a.Store._board.Stamp(0, held: false);
            if (!a.Counted)
            {
                a.Store._board.Stamp(JsonActivityBoard.UncountedSlot, held: false);
            }

            return state.Snapshot();
        }, missing: null, cancellationToken);

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, 0, static (state, _) => state.Document is null ? null : state.Snapshot(), static _ => (ChatSession?)null, cancellationToken);

    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        RunAsync(session.SessionId, create: false, (Store: this, Session: session), static (state, a) =>
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
            document.Metadata = Copy(session.Metadata);
            document.Version++;
            document.UpdatedAt = a.Store._clock.GetUtcNow();
            document.LastSequence = current.LastSequence;
            state.Replace(a.Store, document);
            return state.Snapshot();
        }, NotFound<ChatSession>, cancellationToken);

    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _counting
            ? OnCountAsync(_count.DeleteAsync(() => DeleteSessionCoreAsync(sessionId, cancellationToken), cancellationToken))
            : DeleteSessionCoreAsync(sessionId, cancellationToken);

    /// <summary>The delete itself; without the count lock the session count is left alone (it stays an upper bound).</summary>
    private Task<bool> DeleteSessionCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        RunAsync(sessionId, create: false, this, static (state, store) =>
        {
            if (state.Document is null)
            {
                return false;
            }

            state.Delete(store);
            store._board.Stamp(0, held: false);
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
        string sessionId, IReadOnlyList<ChatMessage> messages, int maxMessages, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Store: this, Messages: messages, Max: maxMessages, Id: sessionId), static (state, a) =>
        {
            if (state.Document is null)
            {
                throw SessionNotFoundException.ForSession(a.Id);
            }

            var stored = state.Append(a.Store, a.Messages, a.Store._clock.GetUtcNow());
            if (a.Max > 0)
            {
                state.Trim(a.Store, a.Max, compact: false);
            }

            return stored;
        }, NotFound<IReadOnlyList<ChatMessage>>, cancellationToken);

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Store: this, Query: query, Id: sessionId), static (state, a) =>
        {
            if (state.Document is null)
            {
                throw SessionNotFoundException.ForSession(a.Id);
            }

            return MessagePaging.ToPage(a.Query, state.Fetch(a.Store, a.Query, MessagePaging.FetchCount(a.Query)));
        }, NotFound<MessagePage>, cancellationToken);

    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Store: this, Keep: keepLatest), static (state, a) =>
            state.Document is null ? 0 : state.Trim(a.Store, a.Keep, compact: true), static _ => 0L, cancellationToken);

    public Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default) =>
        RunAsync(session.SessionId, create: true, (Store: this, Session: session, Replace: replaceExisting), static (state, a) =>
        {
            var session = a.Session;
            if (state.Document is not null && !a.Replace)
            {
                throw SessionAlreadyExistsException.ForSession(session.SessionId);
            }

            state.Reset(a.Store, new JsonSessionDocument
            {
                SessionId = session.SessionId,
                Participants = [.. session.Participants],
                Title = session.Title,
                Metadata = Copy(session.Metadata),
                CreatedAt = session.CreatedAt.ToUniversalTime(),
                UpdatedAt = session.UpdatedAt.ToUniversalTime(),
                Version = session.Version,
                LastSequence = session.LastSequence,
                Incarnation = NewIncarnation(),
            });

            // Imports do not keep the session count: the next create under a limit counts again.
            a.Store._board.Stamp(0, held: false);
            a.Store._board.Stamp(JsonActivityBoard.UncountedSlot, held: false);
            return true;
        }, missing: null, cancellationToken);

    public Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        RunAsync(sessionId, create: false, (Store: this, Messages: messages, Id: sessionId), static (state, a) =>
        {
            if (state.Document is null)
            {
                throw SessionNotFoundException.ForSession(a.Id);
            }

            state.Import(a.Store, a.Messages);
            return true;
        }, NotFound<bool>, cancellationToken);

    public Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            EnsureFormat();
            var sessions = Sessions().Length;
            var damaged = Interlocked.Read(ref _damaged);
            return Task.FromResult(new HealthReport
            {
                Status = damaged > 0 ? StoreHealthStatus.Degraded : StoreHealthStatus.Healthy,
                Store = Name,
                Description = damaged > 0
                    ? $"{sessions} sessions; {damaged} damaged message lines were skipped (see the log). The other messages are served."
                    : $"{sessions} sessions in '{_root}'.",
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

        foreach (var state in _states.Values)
        {
            await state.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (state.Lock is null && state.HasUnsyncedIds)
                {
                    LockForCheckpoint(state);
                }

                Release(state, final: true);
                state.CloseFiles();
                state.CloseIds(this);
            }
            finally
            {
                state.Gate.Release();
            }
        }

        _board.Dispose();
        _count.Dispose();
    }

    internal JsonSessionDocument? ReadDocument(string path)
    {
        byte[] bytes;
        try
        {
            // Shared for delete, so a writer in another process can replace the file while we read it (on Windows too).
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, Json.JsonSessionDocument)
                ?? throw new StoreCorruptedException("A session.json file of the Json store holds no record.");
        }
        catch (JsonException ex)
        {
            throw new StoreCorruptedException(
                $"A session.json file of the Json store at '{_root}' is not valid JSON ({ex.Message}); restore it from a backup or delete that session's folder.", ex);
        }
    }

    internal void WriteDocument(string path, JsonSessionDocument document)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(document, Json.JsonSessionDocument);
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1))
        {
            file.Write(bytes);
            file.WriteByte((byte)'\n');
            file.Flush(FlushToDisk);
        }

        File.Move(temp, path, overwrite: true);
    }

    internal void ReportDamaged(long offset, int length)
    {
        // Log the first damaged lines only: a badly damaged file read page after page must not flood the log.
        if (Interlocked.Increment(ref _damaged) <= 100)
        {
            JsonStoreLog.DamagedLineSkipped(_logger, offset, length);
        }
    }

    internal void ReportTornTail(long bytes) => JsonStoreLog.TornTailRepaired(_logger, bytes);

    internal void CountMappedIds(int delta) => Interlocked.Add(ref _mappedIds, delta);

    private ChatSession[] Sessions()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return _catalog.Sessions();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"The Json store at '{_root}' could not list its sessions: {ex.Message}", ex);
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
            throw new StoreUnavailableException($"The Json store at '{_root}' could not read or write its session count: {ex.Message}", ex);
        }
    }

    private async Task<T> RunAsync<TArg, T>(
        string sessionId, bool create, TArg arg, Func<JsonSessionState, TArg, T> work, Func<string, T>? missing, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // Keyed by the id itself, so the hot path never hashes it into a folder name again.
        if (!_states.TryGetValue(sessionId, out var state))
        {
            var key = JsonSessionKey.For(sessionId);
            var folder = Path.Combine(_sessionsFolder, key);

            // Reads of a session that never existed create nothing, not even its folder.
            if (!create && !Directory.Exists(folder))
            {
                return missing!(sessionId);
            }

            state = _states.GetOrAdd(sessionId, _ => new JsonSessionState(key, folder, JsonSessionKey.SlotOf(key, JsonActivityBoard.Slots)));
        }

        // One budget for the whole wait, the queue in this instance and the lock held by another process alike.
        var started = Stopwatch.GetTimestamp();
        if (!await state.Gate.WaitAsync(_lockTimeout, cancellationToken).ConfigureAwait(false))
        {
            JsonStoreLog.GateTimedOut(_logger, _lockTimeout.TotalSeconds);
            throw new StoreUnavailableException(
                $"A session of the Json store at '{_root}' stayed busy in this instance for {_lockTimeout.TotalSeconds:0} s (JsonLockTimeout); an operation on it may be stuck. Retry later.");
        }

        try
        {
            if (create)
            {
                Directory.CreateDirectory(state.Folder);
            }
            else if (state.Lock is null && !Directory.Exists(state.Folder))
            {
                return missing!(sessionId);
            }

            if (state.Lock is null)
            {
                await AcquireAsync(state, started, cancellationToken).ConfigureAwait(false);
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
            Release(state, unmap: true);
            state.Forget();
            throw new StoreUnavailableException(
                $"The Json store at '{_root}' could not read or write a session's files: {ex.Message}", ex);
        }
        finally
        {
            state.LastUsed = Stopwatch.GetTimestamp();
            state.Gate.Release();
        }
    }

    private async Task AcquireAsync(JsonSessionState state, long started, CancellationToken cancellationToken)
    {
        var courtesy = state.CourtesyUntil - Stopwatch.GetTimestamp();
        if (courtesy > 0)
        {
            // We just handed the lock to a waiting process: give it the time to take it.
            await Task.Delay(TimeSpan.FromSeconds((double)courtesy / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            try
            {
                // FileShare.None is an exclusive OS lock (flock on Unix, a share mode on Windows), released by the OS
                // when the process dies, so a crashed holder never blocks the others.
                state.Lock = new FileStream(state.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
                break;
            }
            catch (IOException ex) when (ex is not DirectoryNotFoundException and not PathTooLongException)
            {
                if (Stopwatch.GetElapsedTime(started) > _lockTimeout)
                {
                    JsonStoreLog.LockTimedOut(_logger, _lockTimeout.TotalSeconds);
                    throw new StoreUnavailableException(
                        $"A session of the Json store at '{_root}' stayed locked by another process for {_lockTimeout.TotalSeconds:0} s; that process may be stuck. Retry later.",
                        ex);
                }

                SignalWant(state.WantPath);
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            state.Want = new FileStream(state.WantPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
            if (state.Want.Length > 0)
            {
                state.Want.SetLength(0);
            }

            var now = Stopwatch.GetTimestamp();
            state.AcquiredAt = now;
            state.LastUsed = now;
            state.LastStamp = now;
            _board.Stamp(state.Slot, held: true);
            _held[state] = 0;
            JsonLeaseKeeper.Watch(this);

            state.Validate(this);
        }
        catch
        {
            Release(state, unmap: true);
            state.Forget();
            throw;
        }
    }

    /// <summary>
    /// Takes a free session lock at dispose, without waiting, so the id file this instance wrote to gets its checkpoint
    /// (its lease usually ended idle, without one). Busy or gone: skipped, the checkpoint only shortens recovery after a power loss.
    /// </summary>
    private void LockForCheckpoint(JsonSessionState state)
    {
        try
        {
            state.Lock = new FileStream(state.LockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1);
            state.Validate(this);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SessionPersistenceException)
        {
            state.Forget();
        }
    }

    /// <summary>Tells the holder of a session's lock that a process waits for it (the holder watches the file's length).</summary>
    private static void SignalWant(string path)
    {
        try
        {
            using var want = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);
            want.WriteByte(1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only a hint: the holder lets go when idle anyway.
        }
    }

    /// <summary>
    /// Lets go of a session's lock; the caller holds the session's gate. <paramref name="final"/>: the store is being
    /// disposed; <paramref name="unmap"/>: also close the session's id file mapping.
    /// </summary>
    private void Release(JsonSessionState state, bool final = false, bool unmap = false)
    {
        if (state.Lock is null)
        {
            return;
        }

        // Windows cannot rename a grown id file over one another process still maps, so there only the holder maps it.
        state.EndLease(this, final, unmap || OperatingSystem.IsWindows());
        state.Want?.Dispose();
        state.Want = null;
        try
        {
            // Stamped before unlocking: whoever sees the stamp sees every write made under this lease.
            _board.Stamp(state.Slot, held: false);
        }
        catch (IOException)
        {
        }

        state.Lock.Dispose();
        state.Lock = null;
        _held.TryRemove(state, out _);
    }

    /// <summary>
    /// Lets go of the locks this instance no longer needs: idle ones, and busy ones another process waits for (after a
    /// short slice, and then leaves them alone a moment so the waiter gets them). Returns whether any lock is still held.
    /// </summary>
    internal bool ReleaseUnneededLeases()
    {
        foreach (var state in _held.Keys)
        {
            if (!state.Gate.Wait(0))
            {
                continue;
            }

            try
            {
                if (state.Lock is null)
                {
                    _held.TryRemove(state, out _);
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                if (now - state.LastUsed >= IdleRelease || Volatile.Read(ref _disposed) != 0)
                {
                    Release(state, unmap: Volatile.Read(ref _mappedIds) > MaxMappedIds);
                }
                else if (now - state.AcquiredAt >= MinSlice && state.Want is { } want && want.Length > 0)
                {
                    Release(state);
                    state.CourtesyUntil = now + Courtesy;
                }
                else if (now - state.LastStamp >= Restamp)
                {
                    _board.Stamp(state.Slot, held: true);
                    state.LastStamp = now;
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // Tried again on the next pass.
            }
            finally
            {
                state.Gate.Release();
            }
        }

        return !_held.IsEmpty;
    }

    private void EnsureFormat()
    {
        var path = Path.Combine(_root, "format.json");
        if (!File.Exists(path))
        {
            // Written aside and moved in without overwriting, so two processes creating the store at once agree.
            var temp = $"{path}.{Guid.NewGuid():N}.tmp";
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(
                new JsonFormatDocument { Format = JsonFormatDocument.Name, Version = JsonFormatDocument.CurrentVersion }, Json.JsonFormatDocument));
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
            }
            finally
            {
                File.Delete(temp);
            }
        }

        JsonFormatDocument? format;
        try
        {
            format = JsonSerializer.Deserialize(File.ReadAllBytes(path), Json.JsonFormatDocument);
        }
        catch (JsonException ex)
        {
            throw new StoreCorruptedException($"'{path}' is not valid JSON, so the folder's format is unknown; restore it or point StoragePath elsewhere.", ex);
        }

        if (format is null || format.Format != JsonFormatDocument.Name || format.Version != JsonFormatDocument.CurrentVersion)
        {
            throw new StoreCorruptedException(
                $"'{path}' declares format '{format?.Format}' version {format?.Version}; this version of Multichat.Persistence reads '{JsonFormatDocument.Name}' version {JsonFormatDocument.CurrentVersion}. Open the folder with the version that wrote it, or point StoragePath elsewhere.");
        }
    }

    private static T NotFound<T>(string sessionId) => throw SessionNotFoundException.ForSession(sessionId);

    private static Dictionary<string, string>? Copy(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Count == 0 ? null : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
}

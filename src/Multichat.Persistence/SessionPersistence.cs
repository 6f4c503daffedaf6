using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Diagnostics;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence;

/// <summary>
/// The entry point applications use: sessions, messages, paging, limits, retention, backup and migration over one
/// <see cref="ISessionStore"/>. Validates every argument before the store sees it, so bad input changes nothing.
/// Thread-safe; create one per store and share it (it is registered as a singleton by <c>AddSessionPersistence</c>).
/// </summary>
public sealed class SessionPersistence : IAsyncDisposable
{
    private readonly ISessionStore _store;
    private readonly bool _ownsStore;
    private readonly SessionPersistenceOptions _options;
    private readonly InputValidator _validate;
    private readonly ILogger _logger;
    private int _disposed;

    /// <summary>Creates the facade over a store.</summary>
    /// <param name="store">The store to use.</param>
    /// <param name="options">Limits and retention; validated here.</param>
    /// <param name="loggerFactory">Where log events go; none by default.</param>
    /// <param name="ownsStore">Whether <see cref="DisposeAsync"/> disposes <paramref name="store"/> too.</param>
    /// <exception cref="OptionsValidationException">An option is out of range.</exception>
    public SessionPersistence(
        ISessionStore store, SessionPersistenceOptions options, ILoggerFactory? loggerFactory = null, bool ownsStore = true)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        _store = store;
        _ownsStore = ownsStore;
        _options = options;
        _validate = new InputValidator(options);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SessionPersistence>();
    }

    /// <summary>The store behind this facade.</summary>
    public ISessionStore Store => _store;

    /// <summary>Opens the store that <paramref name="options"/> names and wraps it; dispose the result to close it.</summary>
    /// <exception cref="OptionsValidationException">An option is out of range; the message names it.</exception>
    /// <exception cref="NotSupportedException">The storage type is not available in this build.</exception>
    public static SessionPersistence Create(SessionPersistenceOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        var store = Pipeline.StoreFactory.Create(options, loggerFactory ?? NullLoggerFactory.Instance);
        var persistence = new SessionPersistence(store, options, loggerFactory);
        Log.StoreOpened(persistence._logger, store.Name);
        return persistence;
    }

    /// <summary>Creates a session.</summary>
    /// <param name="sessionId">The new session's id: 1 to 256 characters, no control characters.</param>
    /// <param name="participants">The participants, distinct.</param>
    /// <param name="title">An optional title.</param>
    /// <param name="metadata">Optional metadata.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored session, <see cref="ChatSession.Version"/> 1.</returns>
    /// <exception cref="SessionAlreadyExistsException">The id is taken.</exception>
    /// <exception cref="QuotaExceededException">The store holds <see cref="SessionPersistenceOptions.MaxSessions"/> sessions.</exception>
    public Task<ChatSession> CreateSessionAsync(
        string sessionId,
        IEnumerable<string> participants,
        string? title = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        InputValidator.Id(sessionId, nameof(sessionId));
        var list = _validate.Participants(participants, nameof(participants));
        return CreateSessionAsync(
            new ChatSession { SessionId = sessionId, Participants = list, Title = title, Metadata = metadata ?? EmptyMetadata.Instance },
            cancellationToken);
    }

    /// <summary>Creates a session from a record; only its id, participants, title and metadata are used.</summary>
    /// <exception cref="SessionAlreadyExistsException">The id is taken.</exception>
    /// <exception cref="QuotaExceededException">The store holds <see cref="SessionPersistenceOptions.MaxSessions"/> sessions.</exception>
    public async Task<ChatSession> CreateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        _validate.Session(session, nameof(session));
        var scope = new OperationScope(_store.Name, "create_session");
        try
        {
            var created = await _store.CreateSessionAsync(session, _options.MaxSessions ?? 0, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return created;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Reads a session, or <see langword="null"/> when there is none with that id.</summary>
    public async Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        var scope = new OperationScope(_store.Name, "get_session");
        try
        {
            var session = await _store.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return session;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>
    /// Replaces the participants, title and metadata of a session, if nobody changed it since it was read
    /// (<see cref="ChatSession.Version"/> still the stored one). Use <c>session with { … }</c> on a record you read.
    /// </summary>
    /// <returns>The stored session with its new version.</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="ConcurrencyConflictException">The session changed since it was read.</exception>
    public async Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        _validate.Session(session, nameof(session));
        var scope = new OperationScope(_store.Name, "update_session");
        try
        {
            var updated = await _store.UpdateSessionAsync(session, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return updated;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Deletes a session and its messages.</summary>
    /// <returns><see langword="true"/> when it existed.</returns>
    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        var scope = new OperationScope(_store.Name, "delete_session");
        try
        {
            var deleted = await _store.DeleteSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return deleted;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Lists sessions newest activity first; pass the page's continuation token back for the next page.</summary>
    /// <param name="query">Filters and page size; all sessions, 50 a page, when omitted.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<SessionPage> ListSessionsAsync(SessionQuery? query = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        query ??= new SessionQuery();
        InputValidator.Query(query, nameof(query));
        _ = SessionCursor.Decode(query.ContinuationToken, nameof(query));
        var scope = new OperationScope(_store.Name, "list_sessions");
        try
        {
            var page = await _store.ListSessionsAsync(query, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return page;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Appends one message; the store assigns its <see cref="ChatMessage.Sequence"/>.</summary>
    /// <returns>The stored message; for an id stored before, the stored original (a retry never duplicates).</returns>
    /// <exception cref="SessionNotFoundException">No session <see cref="ChatMessage.SessionId"/>.</exception>
    public async Task<ChatMessage> AddMessageAsync(ChatMessage message, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(message);
        InputValidator.Id(message.SessionId, $"{nameof(message)}.{nameof(ChatMessage.SessionId)}");
        _validate.Message(message, message.SessionId, nameof(message));
        var stored = await AppendAsync(message.SessionId, [message], "add_message", cancellationToken).ConfigureAwait(false);
        return stored[0];
    }

    /// <summary>
    /// Appends a batch atomically: all new messages are stored with contiguous sequences, in order, or none is.
    /// Messages whose id is stored already are returned as stored, not stored again.
    /// </summary>
    /// <returns>The stored messages, one per input message, in input order.</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    public Task<IReadOnlyList<ChatMessage>> AddMessagesAsync(
        string sessionId, IEnumerable<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        var batch = _validate.Batch(sessionId, messages, nameof(messages));
        return AppendAsync(sessionId, batch, "add_messages", cancellationToken);
    }

    /// <summary>Reads the latest <paramref name="limit"/> messages of a session, oldest first.</summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(
        string sessionId, int limit = 50, CancellationToken cancellationToken = default)
    {
        var page = await GetMessagesAsync(
            sessionId, new MessageQuery { Limit = limit, Order = MessageOrder.NewestFirst }, cancellationToken).ConfigureAwait(false);
        var latest = new ChatMessage[page.Messages.Count];
        for (var i = 0; i < latest.Length; i++)
        {
            latest[i] = page.Messages[latest.Length - 1 - i];
        }

        return latest;
    }

    /// <summary>Reads one page of a session's messages; follow <see cref="MessagePage.Next"/> for the next.</summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    public async Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        InputValidator.Query(query, nameof(query));
        var scope = new OperationScope(_store.Name, "get_messages");
        try
        {
            var page = await _store.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return page;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Removes a session's oldest messages so that at most <paramref name="keepLatest"/> remain.</summary>
    /// <returns>How many were removed.</returns>
    public async Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        ArgumentOutOfRangeException.ThrowIfNegative(keepLatest);
        var scope = new OperationScope(_store.Name, "trim_messages");
        try
        {
            var removed = await _store.TrimMessagesAsync(sessionId, keepLatest, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return removed;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>
    /// Applies retention and limits now: deletes sessions idle longer than <see cref="SessionPersistenceOptions.CleanupDays"/>,
    /// the least recently active beyond <see cref="SessionPersistenceOptions.MaxSessions"/>, and trims sessions over
    /// <see cref="SessionPersistenceOptions.MaxMessagesPerSession"/>. Does nothing for a limit that is not set.
    /// </summary>
    public async Task<CleanupReport> CleanupAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var scope = new OperationScope(_store.Name, "cleanup");
        try
        {
            var report = await SessionCleanup.RunAsync(_store, _options, cancellationToken).ConfigureAwait(false);
            Log.CleanupCompleted(_logger, report.ExpiredSessions, report.ExcessSessions, report.TrimmedMessages);
            scope.Complete();
            return report;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Streams every session, each followed by its messages, for migration into another store.</summary>
    public IAsyncEnumerable<PortableItem> ExportAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return PortableTransfer.ExportAsync(_store, cancellationToken);
    }

    /// <summary>
    /// Writes a stream from <see cref="ExportAsync"/> (of any store) into this store, keeping sequences, timestamps and versions.
    /// </summary>
    /// <param name="items">The stream to import.</param>
    /// <param name="replaceExisting">Replace sessions that exist here; otherwise such a session stops the import with
    /// <see cref="SessionAlreadyExistsException"/>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<ImportReport> ImportAsync(
        IAsyncEnumerable<PortableItem> items, bool replaceExisting = false, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(items);
        var scope = new OperationScope(_store.Name, "import");
        try
        {
            var report = await PortableTransfer.ImportAsync(_store, ValidateImport(items, cancellationToken), replaceExisting, cancellationToken)
                .ConfigureAwait(false);
            Log.ImportCompleted(_logger, report.Sessions, report.Messages);
            scope.Complete();
            return report;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Writes the whole store to a <c>.mcbak</c> archive file (gzip'd JSON Lines), replacing it atomically.</summary>
    public async Task BackupAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                await BackupAsync(file, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Writes the whole store to a stream as a <c>.mcbak</c> archive; the stream is left open.</summary>
    public async Task BackupAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(destination);
        var scope = new OperationScope(_store.Name, "backup");
        try
        {
            await BackupArchive.WriteAsync(
                destination, _store.Name, _options.TimeProvider.GetUtcNow(), PortableTransfer.ExportAsync(_store, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            scope.Complete();
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Restores a <c>.mcbak</c> archive file; sessions in the archive replace sessions of the same id.</summary>
    public async Task<ImportReport> RestoreAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            return await RestoreAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Restores a <c>.mcbak</c> archive from a stream; sessions in the archive replace sessions of the same id.</summary>
    /// <exception cref="StoreCorruptedException">The stream is not a readable archive.</exception>
    public Task<ImportReport> RestoreAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return ImportAsync(BackupArchive.ReadAsync(source, cancellationToken), replaceExisting: true, cancellationToken);
    }

    /// <summary>Checks that the store answers and its data is readable; never throws for a store failure.</summary>
    public async Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var started = _options.TimeProvider.GetTimestamp();
        try
        {
            var report = await _store.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            return report with { Duration = _options.TimeProvider.GetElapsedTime(started) };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new HealthReport
            {
                Status = StoreHealthStatus.Unhealthy,
                Store = _store.Name,
                Description = ex.Message,
                Exception = ex,
                Duration = _options.TimeProvider.GetElapsedTime(started),
            };
        }
    }

    /// <summary>Counts the sessions and messages the store holds.</summary>
    public async Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var scope = new OperationScope(_store.Name, "statistics");
        try
        {
            var statistics = await _store.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return statistics;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Closes the store when this facade owns it. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _ownsStore)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<ChatMessage>> AppendAsync(
        string sessionId, IReadOnlyList<ChatMessage> batch, string operation, CancellationToken cancellationToken)
    {
        var scope = new OperationScope(_store.Name, operation);
        try
        {
            var stored = await _store.AppendMessagesAsync(sessionId, batch, _options.MaxMessagesPerSession ?? 0, cancellationToken)
                .ConfigureAwait(false);
            if (PersistenceTelemetry.MessagesWritten.Enabled || PersistenceTelemetry.ContentBytes.Enabled)
            {
                RecordWritten(batch);
            }

            scope.Complete();
            return stored;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    private void RecordWritten(IReadOnlyList<ChatMessage> batch)
    {
        long bytes = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            bytes += batch[i].Content.Length * sizeof(char);
        }

        var tag = new KeyValuePair<string, object?>("multichat.store", _store.Name);
        PersistenceTelemetry.MessagesWritten.Add(batch.Count, tag);
        PersistenceTelemetry.ContentBytes.Add(bytes, tag);
    }

    private async IAsyncEnumerable<PortableItem> ValidateImport(
        IAsyncEnumerable<PortableItem> items, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (item.Session is { } session)
            {
                _validate.Session(session, nameof(items));
            }
            else if (item.Message is { } message)
            {
                InputValidator.Id(message.SessionId, nameof(items));
                _validate.Message(message with { Sequence = 0 }, message.SessionId, nameof(items));
                if (message.Sequence < 1)
                {
                    throw new ArgumentException($"Imported message '{message.Id}' has no sequence; exported messages keep theirs.", nameof(items));
                }
            }

            yield return item;
        }
    }

    private static void ThrowIfInvalid(SessionPersistenceOptions options)
    {
        var result = new SessionPersistenceOptionsValidator().Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SessionPersistenceOptions), result.Failures);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}

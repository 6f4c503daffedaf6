using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Diagnostics;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Maintenance;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence;

/// <summary>
/// The entry point applications use: sessions, messages, paging, limits, retention, backup and migration over one
/// store. A thin face over the store pipeline (validation and limits, telemetry, then the store), so bad input
/// changes nothing and every call, composite ones such as backup and cleanup included, gets the same checks.
/// Thread-safe; create one per store and share it (it is registered as a singleton by <c>AddSessionPersistence</c>).
/// </summary>
public sealed partial class SessionPersistence : IAsyncDisposable, IDisposable
{
    private readonly ISessionStore _pipeline;
    private readonly bool _ownsPipeline;
    private readonly SessionPersistenceOptions _options;
    private readonly InputValidator _validate;
    private readonly ILogger _logger;
    private readonly DateTimeOffset _openedAt;
    private IMaintenanceLeases? _maintenanceLeases;
    private int _disposed;

    /// <summary>Creates the facade over a store, composing the pipeline (validation, limits, telemetry) around it.</summary>
    /// <param name="store">The store to use; when it is another facade's <see cref="Store"/>, the store behind it.</param>
    /// <param name="options">Limits and retention; validated here.</param>
    /// <param name="loggerFactory">Where log events go; none by default.</param>
    /// <param name="ownsStore">Whether <see cref="DisposeAsync"/> disposes <paramref name="store"/> too.</param>
    /// <exception cref="OptionsValidationException">An option is out of range.</exception>
    public SessionPersistence(
        ISessionStore store, SessionPersistenceOptions options, ILoggerFactory? loggerFactory = null, bool ownsStore = true)
        : this(
            options,
            SessionStorePipeline.Compose(store ?? throw new ArgumentNullException(nameof(store)), options, loggerFactory ?? NullLoggerFactory.Instance),
            loggerFactory,
            ownsStore)
    {
    }

    private SessionPersistence(SessionPersistenceOptions options, ISessionStore pipeline, ILoggerFactory? loggerFactory, bool ownsPipeline)
    {
        _pipeline = pipeline;
        _ownsPipeline = ownsPipeline;
        _options = options;
        _validate = new InputValidator(options);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SessionPersistence>();
        _openedAt = options.TimeProvider.GetUtcNow();
        (_feed, _readStates, _cursors) = FeedParts(pipeline, options);
    }

    /// <summary>
    /// The composed store this facade calls: every call through it gets the same validation, limits and telemetry as
    /// the facade's own.
    /// </summary>
    public ISessionStore Store => _pipeline;

    /// <summary>The chain below the protection layer: what exports and backups read, so they carry values as stored
    /// (encrypted where encryption is on) and never plain text of an encrypted store.</summary>
    private ISessionStore StoredForm => SessionStorePipeline.StoredForm(_pipeline);

    /// <summary>Opens the store that <paramref name="options"/> names and wraps it; dispose the result to close it.</summary>
    /// <exception cref="OptionsValidationException">An option is out of range; the message names it.</exception>
    /// <exception cref="NotSupportedException">The storage type is not available in this build.</exception>
    public static SessionPersistence Create(SessionPersistenceOptions options, ILoggerFactory? loggerFactory = null)
    {
        var pipeline = SessionStorePipeline.Open(options, loggerFactory ?? NullLoggerFactory.Instance);
        var persistence = new SessionPersistence(options, pipeline, loggerFactory, ownsPipeline: true);
        Log.StoreOpened(persistence._logger, pipeline.Name);
        return persistence;
    }

    /// <summary>The facade over a store DI registered: a chain composed by the pipeline is used as it is (one chain, one
    /// set of layers per store); any other store gets the pipeline composed around it.</summary>
    internal static SessionPersistence OverRegisteredStore(ISessionStore store, SessionPersistenceOptions options, ILoggerFactory? loggerFactory) =>
        SessionStorePipeline.IsComposed(store)
            ? new SessionPersistence(options, store, loggerFactory, ownsPipeline: false)
            : new SessionPersistence(store, options, loggerFactory, ownsStore: false);

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
        // Checked here too, so a failure names this method's own parameters.
        InputValidator.Id(sessionId, nameof(sessionId));
        var list = _validate.Participants(participants, nameof(participants));
        return CreateSessionAsync(
            new ChatSession { SessionId = sessionId, Participants = list, Title = title, Metadata = metadata ?? EmptyMetadata.Instance },
            cancellationToken);
    }

    /// <summary>Creates a session from a record; only its id, participants, title and metadata are used.</summary>
    /// <exception cref="SessionAlreadyExistsException">The id is taken.</exception>
    /// <exception cref="QuotaExceededException">The store holds <see cref="SessionPersistenceOptions.MaxSessions"/> sessions.</exception>
    public Task<ChatSession> CreateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.CreateSessionAsync(session, SessionLimit.None, cancellationToken);
    }

    /// <summary>Reads a session, or <see langword="null"/> when there is none with that id.</summary>
    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.GetSessionAsync(sessionId, cancellationToken);
    }

    /// <summary>
    /// Replaces the participants, title and metadata of a session, if nobody changed it since it was read
    /// (<see cref="ChatSession.Version"/> still the stored one). Use <c>session with { … }</c> on a record you read.
    /// </summary>
    /// <returns>The stored session with its new version.</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="ConcurrencyConflictException">The session changed since it was read.</exception>
    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.UpdateSessionAsync(session, cancellationToken);
    }

    /// <summary>Deletes a session and its messages.</summary>
    /// <returns><see langword="true"/> when it existed.</returns>
    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.DeleteSessionAsync(sessionId, cancellationToken);
    }

    /// <summary>Lists sessions newest activity first; pass the page's continuation token back for the next page.</summary>
    /// <param name="query">Filters and page size; all sessions, 50 a page, when omitted.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <remarks>With <see cref="SessionQuery.IncludeReadState"/> each session's read state for the query's participant
    /// comes in <see cref="SessionPage.ReadStates"/>.</remarks>
    public async Task<SessionPage> ListSessionsAsync(SessionQuery? query = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        query ??= new SessionQuery();
        var page = await _pipeline.ListSessionsAsync(query, cancellationToken).ConfigureAwait(false);
        return query.IncludeReadState ? await WithReadStatesAsync(page, query.Participant!, cancellationToken).ConfigureAwait(false) : page;
    }

    /// <summary>Appends one message; the store assigns its <see cref="ChatMessage.Sequence"/>.</summary>
    /// <returns>The stored message; for an id stored before, the stored original (a retry never duplicates).</returns>
    /// <exception cref="SessionNotFoundException">No session <see cref="ChatMessage.SessionId"/>.</exception>
    public async Task<ChatMessage> AddMessageAsync(ChatMessage message, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(message);
        var stored = await _pipeline.AppendMessagesAsync(message.SessionId, [message], MessageLimit.None, cancellationToken).ConfigureAwait(false);
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
        ArgumentNullException.ThrowIfNull(messages);
        return _pipeline.AppendMessagesAsync(sessionId, messages as IReadOnlyList<ChatMessage> ?? [.. messages], MessageLimit.None, cancellationToken);
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
    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.GetMessagesAsync(sessionId, query, cancellationToken);
    }

    /// <summary>Removes a session's oldest messages so that at most <paramref name="keepLatest"/> remain.</summary>
    /// <returns>How many were removed.</returns>
    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.TrimMessagesAsync(sessionId, keepLatest, cancellationToken);
    }

    /// <summary>
    /// Applies retention and limits now: deletes sessions idle longer than <see cref="SessionPersistenceOptions.CleanupDays"/>,
    /// the least recently active beyond <see cref="SessionPersistenceOptions.MaxSessions"/>, and trims sessions over
    /// <see cref="SessionPersistenceOptions.MaxMessagesPerSession"/>. Does nothing for a limit that is not set.
    /// </summary>
    public Task<CleanupReport> CleanupAsync(CancellationToken cancellationToken = default) => CleanupAsync(progress: null, cancellationToken);

    /// <summary>Applies retention and limits now, as <see cref="CleanupAsync(CancellationToken)"/> does, reporting the
    /// sessions deleted or trimmed and the messages trimmed so far to <paramref name="progress"/> (no totals: they are
    /// known only at the end).</summary>
    public async Task<CleanupReport> CleanupAsync(IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var scope = new OperationScope(_pipeline.Name, "cleanup");
        try
        {
            var report = await SessionCleanup.RunAsync(_pipeline, _options, TransferCounter.For(progress), cancellationToken).ConfigureAwait(false);
            Log.CleanupCompleted(_logger, report.ExpiredSessions, report.ExcessSessions, report.TrimmedMessages);
            scope.Complete();
            return report;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>
    /// Re-encrypts stored data under the current key (<see cref="EncryptionOptions.CurrentKeyId"/>, or the
    /// <see cref="IEncryptionKeyProvider"/>'s ring), so that an old key can be retired: every session holding a value
    /// under another key, or not encrypted, is rewritten; sessions already under the current key are left alone, so a
    /// second run after a complete one changes nothing. Keep every old key in the ring until the report says
    /// <see cref="ReencryptionReport.IsComplete"/>.
    /// </summary>
    /// <remarks>
    /// <para>Crash-safe: each session is swapped in one atomic replacement, so a kill or a failure half-way leaves every
    /// session either as it was (readable with the old keys) or wholly re-encrypted, and running it again finishes the job.</para>
    /// <para>Safe beside live traffic: a session is replaced only if no append, update, trim or delete landed on it since
    /// it was read (checked inside the store's atomic swap); otherwise it is read and rewritten again, a few times, and
    /// then reported busy and left as it was. A session's messages go through a temporary file (sealed values only, never
    /// plain text), so memory does not grow with its history. Sessions imported or restored while it runs keep the
    /// envelopes they came with: run it again afterwards.</para>
    /// <para>Encryption must be on: to read old values it needs their keys, and the options have no "decrypt only" ring,
    /// so turning encryption off is not something this operation can do.</para>
    /// </remarks>
    /// <param name="progress">Told the sessions and messages done so far, of the totals from
    /// <see cref="GetStatisticsAsync"/> at the start (a session already current counts its messages at once).</param>
    /// <param name="cancellationToken">Stops the run; sessions rewritten before stay rewritten, the one under way stays as it was.</param>
    /// <returns>How many sessions were rewritten, already current or left busy, and how many messages were rewritten.</returns>
    /// <exception cref="InvalidOperationException">Encryption is not configured.</exception>
    /// <exception cref="DecryptionFailedException">A stored value cannot be opened with any key of the ring (its key is
    /// missing, or it was damaged or moved); the message names the session, the message and the key id. The run stops there.</exception>
    public Task<ReencryptionReport> ReencryptAsync(IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ReencryptAsync(progress, beforeReplace: null, cancellationToken);

    /// <summary><see cref="ReencryptAsync(IProgress{TransferProgress}?, CancellationToken)"/> with a test hook that runs
    /// between a session's read and its replacement.</summary>
    internal async Task<ReencryptionReport> ReencryptAsync(
        IProgress<TransferProgress>? progress, Func<string, CancellationToken, Task>? beforeReplace, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var scope = new OperationScope(_pipeline.Name, "reencrypt");
        try
        {
            TransferCounter? counter = null;
            if (progress is not null)
            {
                var statistics = await _pipeline.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
                counter = new TransferCounter(progress, statistics.SessionCount, statistics.MessageCount);
            }

            var report = await Protection.Reencryption.RunAsync(_pipeline, _logger, counter, beforeReplace, cancellationToken).ConfigureAwait(false);
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
        return PortableTransfer.ExportAsync(StoredForm, cancellationToken);
    }

    /// <summary>Streams every session, each followed by its messages, reporting progress (totals from
    /// <see cref="GetStatisticsAsync"/> when the enumeration starts) to <paramref name="progress"/>.</summary>
    public IAsyncEnumerable<PortableItem> ExportAsync(IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return progress is null ? PortableTransfer.ExportAsync(StoredForm, cancellationToken) : PortableTransfer.ExportAsync(StoredForm, progress, cancellationToken);
    }

    /// <summary>
    /// Writes a stream from <see cref="ExportAsync(CancellationToken)"/> (of any store) into this store, keeping sequences, timestamps and versions.
    /// </summary>
    /// <param name="items">The stream to import.</param>
    /// <param name="replaceExisting">Replace sessions that exist here; otherwise such a session stops the import with
    /// <see cref="SessionAlreadyExistsException"/>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public Task<ImportReport> ImportAsync(
        IAsyncEnumerable<PortableItem> items, bool replaceExisting = false, CancellationToken cancellationToken = default) =>
        ImportAsync(items, replaceExisting, progress: null, cancellationToken);

    /// <summary>Writes a stream from <see cref="ExportAsync(CancellationToken)"/> into this store, as the overload
    /// without progress does, reporting the sessions and messages written so far to <paramref name="progress"/>.</summary>
    public async Task<ImportReport> ImportAsync(
        IAsyncEnumerable<PortableItem> items, bool replaceExisting, IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(items);
        var scope = new OperationScope(_pipeline.Name, "import");
        try
        {
            var report = await PortableTransfer.ImportAsync(_pipeline, items, replaceExisting, TransferCounter.For(progress), cancellationToken).ConfigureAwait(false);
            Log.ImportCompleted(_logger, report.Sessions, report.Messages);
            scope.Complete();
            return report;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Writes the whole store to a <c>.mcbak</c> archive file (gzip'd JSON Lines), replacing it atomically:
    /// the archive is written under a temporary name beside it and renamed when complete.</summary>
    public Task BackupAsync(string path, CancellationToken cancellationToken = default) => BackupAsync(path, progress: null, cancellationToken);

    /// <summary>Writes the whole store to a <c>.mcbak</c> archive file, replacing it atomically, reporting progress
    /// (totals from <see cref="GetStatisticsAsync"/> at the start) to <paramref name="progress"/>.</summary>
    public async Task BackupAsync(string path, IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        Files.CreateFolder(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            var file = Files.Open(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await BackupAsync(file, progress, cancellationToken).ConfigureAwait(false);
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
    public Task BackupAsync(Stream destination, CancellationToken cancellationToken = default) => BackupAsync(destination, progress: null, cancellationToken);

    /// <summary>Writes the whole store to a stream as a <c>.mcbak</c> archive, reporting progress to
    /// <paramref name="progress"/>; the stream is left open.</summary>
    public async Task BackupAsync(Stream destination, IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(destination);
        var scope = new OperationScope(_pipeline.Name, "backup");
        try
        {
            TransferCounter? counter = null;
            if (progress is not null)
            {
                var statistics = await _pipeline.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
                counter = new TransferCounter(progress, statistics.SessionCount, statistics.MessageCount);
            }

            await BackupArchive.WriteAsync(
                destination, _pipeline.Name, _options.TimeProvider.GetUtcNow(), PortableTransfer.ExportAsync(StoredForm, cancellationToken), counter, cancellationToken)
                .ConfigureAwait(false);
            scope.Complete();
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Restores a <c>.mcbak</c> archive file with <see cref="RestoreMode.Replace"/>.</summary>
    public Task<ImportReport> RestoreAsync(string path, CancellationToken cancellationToken = default) =>
        RestoreAsync(path, RestoreMode.Replace, progress: null, cancellationToken);

    /// <summary>
    /// Restores a <c>.mcbak</c> archive file. The whole archive is checked first (structure, counts, checksum, this
    /// store's limits, and for <see cref="RestoreMode.Fail"/> that none of its sessions exist) and nothing is written
    /// unless it passes; then each session is written as one atomic replacement. Sessions not in the archive stay.
    /// </summary>
    /// <param name="path">The archive.</param>
    /// <param name="mode">What to do with a session the store already holds.</param>
    /// <param name="progress">Told the sessions and messages written, of the archive's totals.</param>
    /// <param name="cancellationToken">Cancels the operation; sessions restored before it stay restored.</param>
    /// <exception cref="StoreCorruptedException">The archive is damaged, cut short, altered or not an archive; nothing was written.</exception>
    /// <exception cref="SessionAlreadyExistsException">With <see cref="RestoreMode.Fail"/>: a session of the archive exists; nothing was written.</exception>
    /// <exception cref="ArgumentException">A record of the archive breaks this store's limits; nothing was written.</exception>
    public async Task<ImportReport> RestoreAsync(
        string path, RestoreMode mode, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        // FileShare.Read: nobody can change the file between the checking pass and the writing pass.
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            return await RestoreAsync(file, mode, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Restores a <c>.mcbak</c> archive from a stream with <see cref="RestoreMode.Replace"/>.</summary>
    /// <exception cref="StoreCorruptedException">The stream is not a readable archive; nothing was written.</exception>
    public Task<ImportReport> RestoreAsync(Stream source, CancellationToken cancellationToken = default) =>
        RestoreAsync(source, RestoreMode.Replace, progress: null, cancellationToken);

    /// <summary>
    /// Restores a <c>.mcbak</c> archive from a stream, as <see cref="RestoreAsync(string, RestoreMode, IProgress{TransferProgress}?, CancellationToken)"/>
    /// does; a stream that cannot seek is first copied to a temporary file (deleted afterwards), so the checking and the
    /// writing pass read the same bytes.
    /// </summary>
    /// <exception cref="StoreCorruptedException">The archive is damaged, cut short, altered or not an archive; nothing was written.</exception>
    /// <exception cref="SessionAlreadyExistsException">With <see cref="RestoreMode.Fail"/>: a session of the archive exists; nothing was written.</exception>
    public async Task<ImportReport> RestoreAsync(
        Stream source, RestoreMode mode, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(source);
        var scope = new OperationScope(_pipeline.Name, "restore");
        try
        {
            var report = await SafeRestore.RunAsync(_pipeline, _validate, source, mode, progress, Files, cancellationToken).ConfigureAwait(false);
            Log.ImportCompleted(_logger, report.Sessions, report.Messages);
            scope.Complete();
            return report;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>Reads a <c>.mcbak</c> archive file to the end and checks it (structure, counts, checksum); writes nothing.</summary>
    /// <exception cref="StoreCorruptedException">The archive is damaged, cut short, altered or not an archive.</exception>
    public async Task<BackupInfo> VerifyBackupAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            return await VerifyBackupAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a <c>.mcbak</c> archive from a stream to the end and checks it; writes nothing.</summary>
    /// <exception cref="StoreCorruptedException">The archive is damaged, cut short, altered or not an archive.</exception>
    public Task<BackupInfo> VerifyBackupAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(source);
        return SafeRestore.VerifyAsync(source, validate: null, refuseExisting: null, cancellationToken);
    }

    /// <summary>
    /// Checks that the store answers and its data is readable; never throws for a store failure. With scheduled
    /// maintenance configured, the description says when the last backup and cleanup ran (on any instance sharing the
    /// store), and with <see cref="SessionPersistenceOptions.BackupEnabled"/> the status is at least
    /// <see cref="StoreHealthStatus.Degraded"/> when the newest backup is older than twice
    /// <see cref="SessionPersistenceOptions.BackupInterval"/>.
    /// </summary>
    public async Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var report = await _pipeline.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        return _options.BackupEnabled || SessionMaintenanceService.CleansUp(_options)
            ? await MaintenanceHealth.AddAsync(report, _options, MaintenanceLeases, _openedAt, cancellationToken).ConfigureAwait(false)
            : report;
    }

    /// <summary>The store's scheduled-maintenance leases (beside its files, in its Redis, or in this process).</summary>
    internal IMaintenanceLeases MaintenanceLeases => _maintenanceLeases ??= MaintenanceLeaseStores.For(_pipeline, _options);

    /// <summary>Creates backups, their folders and spooled archives with the permissions of <see cref="SessionPersistenceOptions.FilePermissions"/>.</summary>
    internal FileCreator Files => FileCreator.For(_options.FilePermissions);

    /// <summary>Where scheduled backups go; <see langword="null"/> when the store has no folder and none is configured.</summary>
    internal string? BackupFolder => MaintenanceLeaseStores.BackupFolder(_pipeline, _options);

    /// <summary>Counts the sessions and messages the store holds.</summary>
    public Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _pipeline.GetStatisticsAsync(cancellationToken);
    }

    /// <summary>Closes the store when this facade owns it. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _ownsPipeline)
        {
            await _pipeline.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Closes the store when this facade owns it, blocking until it is closed; for containers and <c>using</c>
    /// statements that dispose synchronously. Prefer <see cref="DisposeAsync"/>.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}

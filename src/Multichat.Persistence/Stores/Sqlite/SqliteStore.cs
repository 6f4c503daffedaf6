using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Feed;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// Keeps every session in one SQLite database (<c>{StoragePath}/sessions.db</c>, WAL journal), shared safely by many
/// processes on one machine. Appends take the database's write lock (<c>BEGIN IMMEDIATE</c>), so reading the session's
/// last sequence and inserting the batch is one serialised step across processes: sequences stay gapless, and a
/// kill -9 at any moment leaves the last committed transaction intact.
/// </summary>
/// <remarks>
/// This type maps the contract onto the parts: <see cref="SqliteDatabase"/> (connections, transactions, retries),
/// <see cref="SqliteSessionCommands"/>, <see cref="SqliteMessageCommands"/>, <see cref="SqliteImport"/> (the writes,
/// each one transaction), <see cref="SqliteQueries"/> (the reads), and for the change feed <see cref="SqliteReadCursors"/>
/// and <see cref="SqliteChangePoller"/> (see SqliteStore.Feed.cs).
/// </remarks>
internal sealed partial class SqliteStore : ISessionStore, ISessionReplacer, ISessionHeadSource
{
    /// <summary>The file name inside <see cref="SessionPersistenceOptions.StoragePath"/>.</summary>
    public const string FileName = "sessions.db";

    private const int IdPageSize = 500;

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public SqliteStore(SqliteStoreOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);

        // The store pools its own open connections (each with prepared statements); closing them must close the file.
        var builder = new SqliteConnectionStringBuilder(options.ConnectionString) { Pooling = false };
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:")
        {
            // Every connection of the pool would open its own empty database.
            throw new NotSupportedException(
                "The Sqlite store needs a database file; an in-memory SQLite database is private to one connection. Use StorageType.Memory for a store in memory.");
        }

        _database = new SqliteDatabase(
            builder.ToString(),
            builder.DataSource,
            options.Durability,
            options.BusyTimeout,
            options.Faults,
            FileCreator.For(options.FilePermissions),
            createsFile: builder.Mode == SqliteOpenMode.ReadWriteCreate,
            logger);
        _clock = options.TimeProvider;
        _logger = logger;
        _poller = new SqliteChangePoller(ct => _database.OpenDedicatedReaderAsync("WatchMessages", ct), FallbackPollInterval, logger);
        _signals = _poller.Signals;
    }

    public string Name => "sqlite";

    /// <summary>The database file (or URI) this store opens.</summary>
    public string DataSource => _database.DataSource;

    public async Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default)
    {
        var record = SessionRecords.New(session, _clock.GetUtcNow());
        var (created, evicted) = await _database.WriteAsync(
            SqliteWriteSteps.Create, (record, limit), static (lease, state) => SqliteSessionCommands.Create(lease, state.record, state.limit), cancellationToken)
            .ConfigureAwait(false);

        // Reported only now: until the commit, a failure would have kept every evicted session.
        foreach (var id in evicted)
        {
            SessionEvictionLog.Report(_logger, Name, id, created.SessionId, limit.MaxSessions);
            _signals.Notify(id);
        }

        return created;
    }

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _database.ReadAsync("GetSession", sessionId, static (lease, sessionId) => SqliteSessionRows.SelectSession(lease, sessionId), cancellationToken);

    /// <summary>One prepared single-row read on a pooled reader connection, like <see cref="GetSessionAsync"/>.</summary>
    public Task<SessionHead?> GetHeadAsync(string sessionId, CancellationToken cancellationToken) =>
        _database.ReadAsync("GetHead", sessionId, static (lease, sessionId) => SqliteSessionRows.SelectCacheHead(lease, sessionId), cancellationToken);

    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        _database.WriteAsync(
            SqliteWriteSteps.Update, (session, _clock), static (lease, state) => SqliteSessionCommands.Update(lease, state.session, state._clock), cancellationToken);

    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var deleted = await _database.WriteAsync(
            SqliteWriteSteps.Delete, sessionId, static (lease, sessionId) => SqliteSessionRows.DeleteSession(lease, sessionId), cancellationToken)
            .ConfigureAwait(false);
        if (deleted)
        {
            _signals.Notify(sessionId);
        }

        return deleted;
    }

    public Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        var cursor = SessionCursor.Decode(query.ContinuationToken, nameof(query));
        return _database.ReadAsync(
            "ListSessions", (query, cursor), static (lease, state) => SqliteQueries.Sessions(lease, state.query, state.cursor), cancellationToken);
    }

    public async IAsyncEnumerable<string> ListSessionIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Keyset pages, so no statement stays open (holding a read snapshot) while the caller works between ids.
        var after = string.Empty;
        while (true)
        {
            var page = await _database.ReadAsync(
                "ListSessionIds", after, static (lease, after) => SqliteQueries.SessionIds(lease, after, IdPageSize), cancellationToken).ConfigureAwait(false);

            foreach (var id in page)
            {
                yield return id;
            }

            if (page.Count < IdPageSize)
            {
                yield break;
            }

            after = page[^1];
        }
    }

    public async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        // A message id seen before is the rare case (a retry): try the shorter transaction that assumes every message
        // is new, and only when one is not (or under Reject, when the batch might not fit), run the one that looks ids up.
        var state = (sessionId, messages, limit, _clock);
        var stored = await _database.WriteAsync(SqliteWriteSteps.Append, state, SqliteMessageCommands.AppendAssumingNew, cancellationToken).ConfigureAwait(false)
            ?? await _database.WriteAsync(SqliteWriteSteps.Append, state, SqliteMessageCommands.AppendWithLookups, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The append with id lookups always completes.");
        _signals.Notify(sessionId);
        return stored;
    }

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        _database.ReadAsync(
            "GetMessages", (sessionId, query), static (lease, state) => SqliteQueries.Messages(lease, state.sessionId, state.query), cancellationToken);

    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        _database.WriteAsync(
            SqliteWriteSteps.Trim, (sessionId, keepLatest), static (lease, state) => SqliteMessageCommands.Trim(lease, state.sessionId, state.keepLatest), cancellationToken);

    public async Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default)
    {
        await _database.WriteAsync(
            SqliteWriteSteps.ImportSession,
            (record: SessionRecords.Imported(session), replaceExisting),
            static (lease, state) => SqliteImport.Session(lease, state.record, state.replaceExisting),
            cancellationToken).ConfigureAwait(false);

        // A replaced session's watchers must learn of its new life.
        _signals.Notify(session.SessionId);
    }

    public async Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        await _database.WriteAsync(
            SqliteWriteSteps.ImportMessages, (sessionId, messages), static (lease, state) => SqliteImport.Messages(lease, state.sessionId, state.messages), cancellationToken)
            .ConfigureAwait(false);
        _signals.Notify(sessionId);
    }

    /// <summary>One write transaction for the whole session, committed once its last batch is written (see <see cref="SqliteSessionReplacement"/>).</summary>
    public async Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken)
    {
        await _database.WriteStreamingAsync(
            SqliteWriteSteps.ReplaceSession,
            (record: SessionRecords.Imported(session), batches, expected),
            static (lease, state, ct) => SqliteSessionReplacement.ReplaceAsync(lease, state.record, state.batches, state.expected, ct),
            cancellationToken).ConfigureAwait(false);
        _signals.Notify(session.SessionId);
    }

    public Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default) =>
        _database.ReadAsync("CheckHealth", (Name, _database.Damage), SqliteQueries.Health, cancellationToken);

    public Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        _database.ReadAsync("GetStatistics", Name, SqliteQueries.Statistics, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // The poll's connection closes before the writer's, so the writer's close is the last and checkpoints the WAL.
        await _poller.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // Watchers read once more and end (the store is disposed) instead of sleeping until their fallback poll.
            _signals.NotifyAll();
        }
    }
}

using System.Globalization;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Feed;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Keeps sessions in Redis (a single node, or Redis Cluster), for applications on many machines. Every change of a
/// session is one Lua script over keys that share a hash tag (see <see cref="RedisKeys"/>): an append checks
/// idempotency, assigns sequences, writes the messages, updates counters and indexes and trims, atomically and in
/// one round trip. Backend failures surface as <see cref="StoreUnavailableException"/> (the server cannot be reached
/// or did not answer in time) or <see cref="StoreCorruptedException"/> (data of the wrong shape); see
/// <see cref="RedisErrors"/>. The work is split by what it touches: session records (<see cref="RedisSessionCommands"/>),
/// messages (<see cref="RedisMessageCommands"/>), reads over all buckets (<see cref="RedisSessionListing"/>), read
/// cursors (<see cref="RedisReadCursors"/>) and the feed's hints (<see cref="RedisFeedHints"/>).
/// </summary>
internal sealed class RedisStore : ISessionStore, ISessionReplacer, ISessionHeadSource, IReadCursorStore, IMessageSignals
{
    public const string StoreName = "redis";

    private readonly RedisConnection _connection;
    private readonly RedisStoreContext _context;
    private readonly RedisSessionCommands _sessions;
    private readonly RedisMessageCommands _messages;
    private readonly RedisSessionListing _listing;
    private readonly RedisHealthSample _health;
    private readonly RedisReplicaAcknowledgement _acknowledgement;
    private readonly RedisReadCursors _cursors;
    private readonly RedisFeedHints _hints;

    // Both only with ReadFrom = PreferReplica: what this instance wrote, and the reads checked against it.
    private readonly RedisWrittenHeads? _heads;
    private readonly RedisReplicaReads? _replicaReads;

    public RedisStore(RedisStoreOptions options, ILogger logger)
    {
        var configuration = RedisConnection.Configure(options);
        _connection = new RedisConnection(configuration, logger);
        var runner = new RedisScriptRunner(_connection, configuration.DefaultDatabase ?? -1);
        var keys = new RedisKeys(options.KeyPrefix);
        _context = new RedisStoreContext(runner, keys, new RedisSessionLimit(runner, keys, LeaseTime(options), logger), options.TimeProvider, logger, options.Faults);
        _sessions = new RedisSessionCommands(_context);
        _messages = new RedisMessageCommands(_context);
        _listing = new RedisSessionListing(_context);
        _health = new RedisHealthSample(_context);
        _acknowledgement = new RedisReplicaAcknowledgement(_connection, runner, configuration.DefaultDatabase ?? -1, options.MinReplicas, options.ReplicaTimeout);
        _cursors = new RedisReadCursors(_context);
        _hints = new RedisFeedHints(_connection, runner, keys, logger);
        if (options.ReadFrom == ReadFrom.PreferReplica)
        {
            _heads = new RedisWrittenHeads();
            _replicaReads = new RedisReplicaReads(_context, _heads, _messages);
        }

        MaintenanceLeases = new RedisMaintenanceLeases(runner, options.KeyPrefix, options.TimeProvider);
    }

    /// <summary>The scheduled maintenance's leases, kept in this Redis (see <see cref="RedisMaintenanceLeases"/>).</summary>
    public RedisMaintenanceLeases MaintenanceLeases { get; }

    public string Name => StoreName;

    public TimeSpan PollInterval => _hints.PollInterval;

    /// <summary>The feed's hints (for tests that await its subscriptions).</summary>
    internal RedisFeedHints Hints => _hints;

    public async Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default)
    {
        var epoch = await _acknowledgement.BeginAsync(cancellationToken).ConfigureAwait(false);
        ChatSession created;
        try
        {
            created = await _sessions.CreateSessionAsync(session, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            _heads?.Replaced(session.SessionId);
            throw;
        }

        _heads?.Created(created);
        await _acknowledgement.ConfirmAsync(epoch, cancellationToken).ConfigureAwait(false);
        return created;
    }

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _replicaReads is { } replicaReads ? replicaReads.GetSessionAsync(sessionId, cancellationToken) : _sessions.GetSessionAsync(sessionId, cancellationToken);

    public Task<SessionHead?> GetHeadAsync(string sessionId, CancellationToken cancellationToken) => RedisSessionHeads.GetAsync(_context, sessionId, cancellationToken);

    public async Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        var epoch = await _acknowledgement.BeginAsync(cancellationToken).ConfigureAwait(false);
        ChatSession updated;
        try
        {
            updated = await _sessions.UpdateSessionAsync(session, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            _heads?.Unsure(session.SessionId);
            throw;
        }

        _heads?.Updated(updated);
        await _acknowledgement.ConfirmAsync(epoch, cancellationToken).ConfigureAwait(false);
        return updated;
    }

    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var epoch = await _acknowledgement.BeginAsync(cancellationToken).ConfigureAwait(false);
        bool deleted;
        try
        {
            deleted = await _sessions.DeleteSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            _heads?.Replaced(sessionId);
            throw;
        }

        _heads?.Deleted(sessionId);
        if (deleted)
        {
            _hints.Notify(sessionId);
            await _acknowledgement.ConfirmAsync(epoch, cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    public Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default) =>
        _listing.ListSessionsAsync(query, cancellationToken);

    public IAsyncEnumerable<string> ListSessionIdsAsync(CancellationToken cancellationToken = default) =>
        _listing.ListSessionIdsAsync(cancellationToken);

    public async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        var epoch = await _acknowledgement.BeginAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<ChatMessage> stored;
        try
        {
            stored = await _messages.AppendMessagesAsync(sessionId, messages, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            _heads?.Unsure(sessionId);
            throw;
        }

        if (_heads is { } heads)
        {
            var last = 0L;
            foreach (var message in stored)
            {
                last = Math.Max(last, message.Sequence);
            }

            heads.Appended(sessionId, last);
        }

        _hints.Notify(sessionId);

        // Also when every message was stored already (a retry): the first attempt may have been refused for its replicas.
        await _acknowledgement.ConfirmAsync(epoch, cancellationToken).ConfigureAwait(false);
        return stored;
    }

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        _replicaReads is { } replicaReads ? replicaReads.GetMessagesAsync(sessionId, query, cancellationToken) : _messages.GetMessagesAsync(sessionId, query, cancellationToken);

    public async Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        var epoch = await _acknowledgement.BeginAsync(cancellationToken).ConfigureAwait(false);
        long removed;
        try
        {
            removed = await _messages.TrimMessagesAsync(sessionId, keepLatest, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            _heads?.Unsure(sessionId);
            throw;
        }

        if (removed > 0)
        {
            _heads?.Unsure(sessionId);
            await _acknowledgement.ConfirmAsync(epoch, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    public Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default) =>
        ReplaceAsync(session.SessionId, () => _sessions.ImportSessionAsync(session, replaceExisting, cancellationToken), cancellationToken);

    public Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        ReplaceAsync(sessionId, () => _messages.ImportMessagesAsync(sessionId, messages, cancellationToken), cancellationToken);

    public Task ReplaceSessionAsync(ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken) =>
        ReplaceAsync(session.SessionId, () => new RedisSessionReplacement(_context).ReplaceSessionAsync(session, batches, expected, cancellationToken), cancellationToken);

    public async Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var started = _context.Clock.GetTimestamp();
        try
        {
            var latency = await _context.Runner.RunAsync(db => db.PingAsync(), cancellationToken).ConfigureAwait(false);
            var statistics = await GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
            var (damage, sampled) = await _health.CheckAsync(cancellationToken).ConfigureAwait(false);
            var summary = string.Create(
                CultureInfo.InvariantCulture,
                $"Redis answers in {latency.TotalMilliseconds:F1} ms; {statistics.SessionCount} sessions, {statistics.MessageCount} messages");
            return new HealthReport
            {
                Status = damage.Count == 0 ? StoreHealthStatus.Healthy : StoreHealthStatus.Degraded,
                Store = StoreName,
                Description = damage.Count == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{summary}; the {sampled} most recently active sessions checked read back intact.")
                    : string.Create(
                        CultureInfo.InvariantCulture,
                        $"{summary}; of the {sampled} most recently active sessions checked, {damage.Count} are damaged ({string.Join("; ", damage.Take(5))}{(damage.Count > 5 ? "; …" : string.Empty)}). Reading such a session reports StoreCorruptedException; restore it from a backup or delete it."),
                Duration = _context.Clock.GetElapsedTime(started),
            };
        }
        catch (SessionPersistenceException ex)
        {
            return new HealthReport
            {
                Status = StoreHealthStatus.Unhealthy,
                Store = StoreName,
                Description = ex.Message,
                Duration = _context.Clock.GetElapsedTime(started),
                Exception = ex,
            };
        }
    }

    public Task<StoreStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) => _listing.GetStatisticsAsync(cancellationToken);

    public MessageSignal Listen(string sessionId) => _hints.Listen(sessionId);

    /// <summary>
    /// A mark is a write like any other: with <c>MinReplicas</c> it is acknowledged once the replicas have it, so a
    /// failover never moves an acknowledged cursor back. A mark that changed nothing (a retry) waits too, as an append
    /// of stored ids does: the first attempt may have been refused for its replicas.
    /// </summary>
    public async Task<long> MarkReadAsync(string sessionId, string participant, long sequence, CancellationToken cancellationToken)
    {
        var epoch = await _acknowledgement.BeginAsync(cancellationToken).ConfigureAwait(false);
        var cursor = await _cursors.MarkReadAsync(sessionId, participant, sequence, cancellationToken).ConfigureAwait(false);
        await _acknowledgement.ConfirmAsync(epoch, cancellationToken).ConfigureAwait(false);
        return cursor;
    }

    public Task<IReadOnlyDictionary<string, long>> GetReadCursorsAsync(string sessionId, CancellationToken cancellationToken) =>
        _cursors.GetReadCursorsAsync(sessionId, cancellationToken);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    // Imports and replacements may move a session's sequence and version back, so a replica's copy cannot be checked
    // against them: the primary answers this instance's reads of the session from the start of the write on.
    private async Task ReplaceAsync(string sessionId, Func<Task> write, CancellationToken cancellationToken)
    {
        var epoch = await _acknowledgement.BeginAsync(cancellationToken).ConfigureAwait(false);
        _heads?.Replaced(sessionId);
        await write().ConfigureAwait(false);
        _hints.Notify(sessionId);
        await _acknowledgement.ConfirmAsync(epoch, cancellationToken).ConfigureAwait(false);
    }

    // A lease outlives every live create or delete by far (each step fails within the operation timeout), so one that
    // is older belongs to a process that stopped between its steps.
    private static TimeSpan LeaseTime(RedisStoreOptions options) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(1).Ticks, 10 * (options.ConnectTimeout + options.OperationTimeout).Ticks));
}

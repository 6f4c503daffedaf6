using System.Globalization;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Caching;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Keeps sessions in Redis (a single node, or Redis Cluster), for applications on many machines. Every change of a
/// session is one Lua script over keys that share a hash tag (see <see cref="RedisKeys"/>): an append checks
/// idempotency, assigns sequences, writes the messages, updates counters and indexes and trims, atomically and in
/// one round trip. Backend failures surface as <see cref="StoreUnavailableException"/> (the server cannot be reached
/// or did not answer in time) or <see cref="StoreCorruptedException"/> (data of the wrong shape); see
/// <see cref="RedisErrors"/>. The work is split by what it touches: session records (<see cref="RedisSessionCommands"/>),
/// messages (<see cref="RedisMessageCommands"/>), reads over all buckets (<see cref="RedisSessionListing"/>).
/// </summary>
internal sealed class RedisStore : ISessionStore, ISessionReplacer, ISessionHeadSource
{
    public const string StoreName = "redis";

    private readonly RedisConnection _connection;
    private readonly RedisStoreContext _context;
    private readonly RedisSessionCommands _sessions;
    private readonly RedisMessageCommands _messages;
    private readonly RedisSessionListing _listing;
    private readonly RedisHealthSample _health;

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
        MaintenanceLeases = new RedisMaintenanceLeases(runner, options.KeyPrefix, options.TimeProvider);
    }

    /// <summary>The scheduled maintenance's leases, kept in this Redis (see <see cref="RedisMaintenanceLeases"/>).</summary>
    public RedisMaintenanceLeases MaintenanceLeases { get; }

    public string Name => StoreName;

    public Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default) =>
        _sessions.CreateSessionAsync(session, limit, cancellationToken);

    public Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _sessions.GetSessionAsync(sessionId, cancellationToken);

    public Task<SessionHead?> GetHeadAsync(string sessionId, CancellationToken cancellationToken) => RedisSessionHeads.GetAsync(_context, sessionId, cancellationToken);

    public Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default) =>
        _sessions.UpdateSessionAsync(session, cancellationToken);

    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _sessions.DeleteSessionAsync(sessionId, cancellationToken);

    public Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default) =>
        _listing.ListSessionsAsync(query, cancellationToken);

    public IAsyncEnumerable<string> ListSessionIdsAsync(CancellationToken cancellationToken = default) =>
        _listing.ListSessionIdsAsync(cancellationToken);

    public Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default) =>
        _messages.AppendMessagesAsync(sessionId, messages, limit, cancellationToken);

    public Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default) =>
        _messages.GetMessagesAsync(sessionId, query, cancellationToken);

    public Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default) =>
        _messages.TrimMessagesAsync(sessionId, keepLatest, cancellationToken);

    public Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default) =>
        _sessions.ImportSessionAsync(session, replaceExisting, cancellationToken);

    public Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default) =>
        _messages.ImportMessagesAsync(sessionId, messages, cancellationToken);

    public Task ReplaceSessionAsync(ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken) =>
        new RedisSessionReplacement(_context).ReplaceSessionAsync(session, batches, expected, cancellationToken);

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

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    // A lease outlives every live create or delete by far (each step fails within the operation timeout), so one that
    // is older belongs to a process that stopped between its steps.
    private static TimeSpan LeaseTime(RedisStoreOptions options) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(1).Ticks, 10 * (options.ConnectTimeout + options.OperationTimeout).Ticks));
}

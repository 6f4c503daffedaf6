using Microsoft.Extensions.Logging;
using Multichat.Persistence.Feed;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The Redis store's wake-up hints for the change feed. This instance's own writes notify its watchers directly; every
/// write of any instance (this one too) also publishes the session id on its bucket's channel from inside its script
/// (see <see cref="FeedScripts.HintFunction"/>), which this instance hears while any session of that bucket is
/// watched here: one subscription per watched bucket, not per session (at most <see cref="RedisKeys.BucketCount"/>),
/// taken when the bucket's first session gets its first watcher and dropped when its last leaves.
/// </summary>
/// <remarks>
/// A hint is lost while a subscription is being taken, or while the subscription connection is down (what is published
/// then reaches nobody), so: once a subscription is confirmed, the bucket's watchers are woken to read the store (a
/// message stored between their first read and the subscription is found); when a connection is restored, every
/// watcher is woken (StackExchange.Redis subscribes again by itself); and a watcher reads the store every
/// <see cref="PollInterval"/> without a hint, which covers what is left (a subscription that failed, a publish between
/// a reconnect and the server's confirmation of the renewed subscription).
/// </remarks>
internal sealed class RedisFeedHints : IMessageSignals
{
    /// <summary>How long a watcher waits without a hint before it reads the store: the delay of a lost hint.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    private readonly RedisConnection _connection;
    private readonly RedisScriptRunner _runner;
    private readonly RedisKeys _keys;
    private readonly ILogger _logger;
    private readonly MessageSignalHub _hub;
    private readonly Action<RedisChannel, RedisValue> _onHint;
    private readonly object _gate = new();

    // By bucket: the sessions watched here (under _gate), and the bucket's channel while subscribed (changed only by
    // the subscription changes, which run one at a time).
    private readonly HashSet<string>[] _watched = new HashSet<string>[RedisKeys.BucketCount];
    private readonly RedisChannel?[] _subscribed = new RedisChannel?[RedisKeys.BucketCount];

    public RedisFeedHints(RedisConnection connection, RedisScriptRunner runner, RedisKeys keys, ILogger logger)
    {
        _connection = connection;
        _runner = runner;
        _keys = keys;
        _logger = logger;
        _hub = new MessageSignalHub(Poll, StartListening);
        _onHint = (_, sessionId) => _hub.Notify((string)sessionId!);
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            _watched[bucket] = new HashSet<string>(StringComparer.Ordinal);
        }

        connection.Restored += _ => Restored();
    }

    public TimeSpan PollInterval => _hub.PollInterval;

    /// <summary>The last subscription change asked for (each runs after the one before): tests await it.</summary>
    internal Task Settled { get; private set; } = Task.CompletedTask;

    public MessageSignal Listen(string sessionId) => _hub.Listen(sessionId);

    /// <summary>Wakes this instance's watchers of the session (after its own write).</summary>
    public void Notify(string sessionId) => _hub.Notify(sessionId);

    private Listener StartListening(string sessionId)
    {
        var bucket = RedisKeys.BucketOf(sessionId);
        bool first;
        lock (_gate)
        {
            first = _watched[bucket].Add(sessionId) && _watched[bucket].Count == 1;
        }

        if (first)
        {
            Reconcile(bucket);
        }

        return new Listener(this, bucket, sessionId);
    }

    private void StopListening(int bucket, string sessionId)
    {
        bool last;
        lock (_gate)
        {
            last = _watched[bucket].Remove(sessionId) && _watched[bucket].Count == 0;
        }

        if (last)
        {
            Reconcile(bucket);
        }
    }

    private void Restored()
    {
        _hub.NotifyAll();

        // A subscription that failed earlier is tried again now that the server answers.
        for (var bucket = 0; bucket < RedisKeys.BucketCount; bucket++)
        {
            Reconcile(bucket);
        }
    }

    private void Reconcile(int bucket)
    {
        lock (_gate)
        {
            Settled = Settled.ContinueWith(_ => ReconcileAsync(bucket), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    // Brings the bucket's subscription in line with its watchers as they are when it runs, so changes that overtake
    // each other (a watcher leaving while the subscription is taken) end in the state the last one asked for.
    private async Task ReconcileAsync(int bucket)
    {
        try
        {
            bool wanted;
            lock (_gate)
            {
                wanted = _watched[bucket].Count > 0;
            }

            if (wanted == _subscribed[bucket].HasValue)
            {
                return;
            }

            var multiplexer = await _connection.GetAsync(CancellationToken.None).ConfigureAwait(false);
            var subscriber = multiplexer.GetSubscriber();
            if (_subscribed[bucket] is { } channel)
            {
                await subscriber.UnsubscribeAsync(channel, _onHint).ConfigureAwait(false);
                _subscribed[bucket] = null;
                return;
            }

            var name = _keys.FeedChannel(bucket);
            channel = await _runner.ShardedHintsAsync(CancellationToken.None).ConfigureAwait(false) ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);
            await subscriber.SubscribeAsync(channel, _onHint).ConfigureAwait(false);
            _subscribed[bucket] = channel;
            NotifyBucket(bucket);
        }
        catch (ObjectDisposedException)
        {
            // The store was disposed: its subscriptions went with its connection.
        }
        catch (Exception ex) when (ex is RedisException or SessionPersistenceException)
        {
            RedisLog.FeedSubscriptionFailed(_logger, ex);
        }
    }

    private void NotifyBucket(int bucket)
    {
        string[] sessions;
        lock (_gate)
        {
            sessions = [.. _watched[bucket]];
        }

        foreach (var sessionId in sessions)
        {
            _hub.Notify(sessionId);
        }
    }

    private sealed class Listener(RedisFeedHints hints, int bucket, string sessionId) : IDisposable
    {
        public void Dispose() => hints.StopListening(bucket, sessionId);
    }
}

using Microsoft.Extensions.Logging;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Feed;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// Wakes this instance's feed watchers when another connection commits: another instance, another process, or the
/// sqlite3 shell. SQLite has no change notification across connections, so one dedicated reader connection steps
/// <c>PRAGMA data_version</c> every <see cref="Interval"/> (it changes when any other connection commits, and costs one
/// read of the WAL index in shared memory); on a change it reads the head of each watched session (two index seeks,
/// no message row) and wakes only those whose head moved. It runs while at least one session is watched.
/// </summary>
/// <remarks>
/// A watcher is never left asleep with a commit it has not read: it listens before its first read, and a commit after
/// that read changes <c>data_version</c> after the poller's previous read of it, so the next round reads the heads
/// (the watched set is taken after the version read) and sees a head unlike the one recorded. A session's first look
/// always wakes it (nothing recorded to compare with). Failures are logged and wake every watcher, which then reads the
/// store and meets the failure itself; the poller reopens its connection and goes on. Time is real time
/// (<see cref="PeriodicTimer"/>), never the store's TimeProvider: a test's frozen clock must not stop cross-process
/// delivery.
/// </remarks>
internal sealed class SqliteChangePoller : IAsyncDisposable
{
    /// <summary>How often the version is read while a session is watched: the median extra delay is half of it.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    /// <summary>How long the poller waits after a failure before it reopens its connection.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Func<CancellationToken, Task<SqliteConnectionLease>> _open;
    private readonly ILogger _logger;
    private readonly Dictionary<string, WatchedSession> _watched = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private CancellationTokenSource? _stop;
    private Task _loop = Task.CompletedTask;
    private bool _disposed;

    /// <param name="open">Opens the dedicated reader connection (the store opened first).</param>
    /// <param name="fallbackPollInterval">How long a watcher waits for a hint before it reads anyway (<see cref="MessageSignalHub.PollInterval"/>).</param>
    /// <param name="logger">For failures of the poll.</param>
    public SqliteChangePoller(Func<CancellationToken, Task<SqliteConnectionLease>> open, TimeSpan fallbackPollInterval, ILogger logger)
    {
        _open = open;
        _logger = logger;
        Signals = new MessageSignalHub(fallbackPollInterval, Watch);
    }

    /// <summary>The store's watchers: its own writes notify them directly, the poll notifies them of everyone else's.</summary>
    public MessageSignalHub Signals { get; }

    /// <summary>The running poll, or the last one (completed once it stopped and closed its connection).</summary>
    internal Task Loop
    {
        get
        {
            lock (_gate)
            {
                return _loop;
            }
        }
    }

    /// <summary>Whether a poll runs now (some session is watched).</summary>
    internal bool IsPolling
    {
        get
        {
            lock (_gate)
            {
                return _stop is not null;
            }
        }
    }

    /// <summary>
    /// Starts polling for the session (and for the store, when it is the first watched one); dispose the result to
    /// stop. The <see cref="Signals"/> hub's <c>startListening</c>: null once the poller is disposed.
    /// </summary>
    private Listener? Watch(string sessionId)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return null;
            }

            if (!_watched.TryGetValue(sessionId, out var watched))
            {
                watched = new WatchedSession();
                _watched[sessionId] = watched;
            }

            // Counted: the hub may start a session's listener again before the previous one is disposed.
            watched.Listeners++;
            if (_stop is null)
            {
                var stop = new CancellationTokenSource();
                var previous = _loop;
                _stop = stop;
                _loop = Task.Run(() => RunAsync(previous, stop));
            }
        }

        return new Listener(this, sessionId);
    }

    public async ValueTask DisposeAsync()
    {
        CancellationTokenSource? stop;
        Task loop;
        lock (_gate)
        {
            _disposed = true;
            _watched.Clear();
            (stop, _stop) = (_stop, null);
            loop = _loop;
        }

        stop?.Cancel();
        await loop.ConfigureAwait(false);
    }

    private void Unwatch(string sessionId)
    {
        CancellationTokenSource? stop = null;
        lock (_gate)
        {
            if (_watched.TryGetValue(sessionId, out var watched) && --watched.Listeners == 0)
            {
                _watched.Remove(sessionId);
                if (_watched.Count == 0)
                {
                    (stop, _stop) = (_stop, null);
                }
            }
        }

        // Outside the gate: the loop may end on this thread.
        stop?.Cancel();
    }

    /// <summary>The poll: never throws (nobody awaits it but <see cref="DisposeAsync"/>), disposes its token source.</summary>
    private async Task RunAsync(Task previous, CancellationTokenSource stop)
    {
        // A poll stopped a moment ago may still be closing its connection; one at a time keeps dispose simple.
        await previous.ConfigureAwait(false);
        SqliteConnectionLease? lease = null;
        long? version = null;
        var failing = false;
        try
        {
            using var timer = new PeriodicTimer(Interval);
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                try
                {
                    lease ??= await _open(stop.Token).ConfigureAwait(false);
                    var current = ReadVersion(lease);
                    if (current != version)
                    {
                        // Also on the first round of a connection: whatever was recorded before may be stale.
                        version = current;
                        LookAtHeads(lease);
                    }

                    failing = false;
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    if (!failing)
                    {
                        SqliteLog.ChangePollFailed(_logger, ex);
                        failing = true;
                    }

                    lease?.Dispose();
                    lease = null;
                    version = null;
                    Signals.NotifyAll();
                    await Task.Delay(RetryDelay, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped: the last watcher left, or the store is disposed.
        }
        finally
        {
            lease?.Dispose();
            stop.Dispose();
        }
    }

    private static long ReadVersion(SqliteConnectionLease lease)
    {
        var command = lease.GetRaw(SqliteSql.DataVersion);
        if (!command.ReadFirst())
        {
            throw new StoreCorruptedException("PRAGMA data_version returned no row.");
        }

        var version = command.Int64(0);
        command.Reset();
        return version;
    }

    /// <summary>Reads each watched session's head and wakes those whose head is not the one recorded.</summary>
    private void LookAtHeads(SqliteConnectionLease lease)
    {
        KeyValuePair<string, WatchedSession>[] watched;
        lock (_gate)
        {
            watched = [.. _watched];
        }

        foreach (var (sessionId, session) in watched)
        {
            // Null once deleted: a change too, which the watcher must read to end its feed.
            var head = SqliteSessionRows.SelectCacheHead(lease, sessionId);
            bool moved;
            lock (_gate)
            {
                moved = !session.Seen || session.Head != head;
                session.Seen = true;
                session.Head = head;
            }

            if (moved)
            {
                Signals.Notify(sessionId);
            }
        }
    }

    /// <summary>What the poller knows of one watched session; guarded by the poller's gate.</summary>
    private sealed class WatchedSession
    {
        public int Listeners { get; set; }

        /// <summary>Whether <see cref="Head"/> was read at least once.</summary>
        public bool Seen { get; set; }

        public SessionHead? Head { get; set; }
    }

    private sealed class Listener(SqliteChangePoller poller, string sessionId) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                poller.Unwatch(sessionId);
            }
        }
    }
}

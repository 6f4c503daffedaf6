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
/// (a wait handle's timeout), never the store's TimeProvider: a test's frozen clock must not stop cross-process
/// delivery. The poll runs on a background thread of its own while a session is watched; the thread ends when the last
/// watcher leaves and before the store's dispose returns.
/// </remarks>
internal sealed class SqliteChangePoller : IAsyncDisposable
{
    /// <summary>How often the version is read while a session is watched: the median extra delay is half of it.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

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

    /// <summary>The running poll, or the last one (completed once its thread closed its connection and is ending).</summary>
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
                // The token source is not disposed: the thread may still read its wait handle while it is cancelled.
                var stop = new CancellationTokenSource();
                var previous = _loop;
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _stop = stop;
                _loop = done.Task;
                new Thread(() => Run(previous, done, stop.Token)) { IsBackground = true, Name = "Multichat Sqlite change poll" }.Start();
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

        // Outside the gate: cancellation runs whatever registered on the token.
        stop?.Cancel();
    }

    /// <summary>
    /// The poll, on a thread of its own: a timer-driven loop on the thread pool cost ten times the CPU (each 5 ms
    /// wake-up also woke and spun a pool worker). Never throws; completes <paramref name="done"/> once its connection
    /// is closed. The stop token's wait handle is both the interval's timer and the stop, so a stop ends it at once.
    /// </summary>
    private void Run(Task previous, TaskCompletionSource done, CancellationToken stop)
    {
        SqliteConnectionLease? lease = null;
        try
        {
            // A poll stopped a moment ago may still be closing its connection; one at a time keeps dispose simple.
            previous.Wait(CancellationToken.None);
            long? version = null;
            var failing = false;
            while (!stop.WaitHandle.WaitOne(Interval))
            {
                try
                {
                    lease ??= _open(stop).GetAwaiter().GetResult();
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
                    stop.WaitHandle.WaitOne(RetryDelay);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped while opening: the last watcher left, or the store is disposed.
        }
        finally
        {
            lease?.Dispose();
            done.SetResult();
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

namespace Multichat.Persistence.Feed;

/// <summary>
/// The watchers of one store instance by session id: stores call <see cref="Notify"/> (or <see cref="NotifyAll"/>
/// when their backend cannot tell which session changed) and every watcher of that session wakes. A store whose
/// backend needs a listener per session (a file watcher, a subscription) passes <c>startListening</c>: called when a
/// session gets its first watcher, its result disposed when the last one leaves.
/// </summary>
internal sealed class MessageSignalHub(TimeSpan pollInterval, Func<string, IDisposable?>? startListening = null) : IMessageSignals
{
    private readonly Dictionary<string, Watchers> _sessions = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public TimeSpan PollInterval => pollInterval;

    /// <summary>How many sessions are watched now.</summary>
    public int WatchedSessions
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    public MessageSignal Listen(string sessionId)
    {
        var signal = new MessageSignal(s => Leave(sessionId, s));
        bool start;
        lock (_gate)
        {
            if (!_sessions.TryGetValue(sessionId, out var watchers))
            {
                watchers = new Watchers();
                _sessions[sessionId] = watchers;
            }

            watchers.Signals.Add(signal);

            // Also when an earlier start gave no listener (the session's folder did not exist yet): try again.
            start = startListening is not null && watchers.Listener is null && !watchers.Starting;
            watchers.Starting |= start;
        }

        if (start)
        {
            IDisposable? listener = null;
            try
            {
                listener = startListening!(sessionId);
            }
            finally
            {
                // Also when the start threw: the entry must not stay "starting" (the feed then only polls).
                Started(sessionId, listener);
            }
        }

        return signal;
    }

    /// <summary>Wakes every watcher of the session.</summary>
    public void Notify(string sessionId)
    {
        MessageSignal[] signals;
        lock (_gate)
        {
            if (!_sessions.TryGetValue(sessionId, out var watchers))
            {
                return;
            }

            signals = [.. watchers.Signals];
        }

        foreach (var signal in signals)
        {
            signal.Set();
        }
    }

    /// <summary>Wakes every watcher of every session.</summary>
    public void NotifyAll()
    {
        MessageSignal[] signals;
        lock (_gate)
        {
            signals = [.. _sessions.Values.SelectMany(w => w.Signals)];
        }

        foreach (var signal in signals)
        {
            signal.Set();
        }
    }

    private void Started(string sessionId, IDisposable? listener)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(sessionId, out var watchers) && watchers.Listener is null)
            {
                watchers.Starting = false;
                if (watchers.Signals.Count == 0)
                {
                    // Every watcher left while it started.
                    _sessions.Remove(sessionId);
                }
                else
                {
                    watchers.Listener = listener;
                    if (listener is not null)
                    {
                        return;
                    }
                }
            }
        }

        // The last watcher left while the listener started.
        listener?.Dispose();
    }

    private void Leave(string sessionId, MessageSignal signal)
    {
        IDisposable? listener = null;
        lock (_gate)
        {
            // While a listener is starting the entry stays (empty): Started removes it, so no second listener for the
            // session can start and overlap the first.
            if (_sessions.TryGetValue(sessionId, out var watchers) && watchers.Signals.Remove(signal) && watchers.Signals.Count == 0 && !watchers.Starting)
            {
                _sessions.Remove(sessionId);
                listener = watchers.Listener;
            }
        }

        listener?.Dispose();
    }

    private sealed class Watchers
    {
        public HashSet<MessageSignal> Signals { get; } = [];

        public IDisposable? Listener { get; set; }

        /// <summary>Whether a watcher is starting the listener now (outside the lock).</summary>
        public bool Starting { get; set; }
    }
}

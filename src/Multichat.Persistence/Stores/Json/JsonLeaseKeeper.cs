using System.Collections.Concurrent;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// One background thread per process that, every 2 ms, lets Json store instances give up session locks they no longer
/// need (idle, or wanted by another process). A dedicated sleeping thread rather than a 1 ms timer: timer callbacks
/// wake thread-pool workers that then spin looking for work, which costs appenders CPU on small machines.
/// </summary>
internal static class JsonLeaseKeeper
{
    private static readonly ConcurrentDictionary<JsonLeases, byte> Leases = new();
    private static readonly AutoResetEvent Wake = new(false);
    private static readonly object Start = new();
    private static Thread? _thread;

    /// <summary>Asks for <see cref="JsonLeases.ReleaseUnneeded"/> calls until it returns false.</summary>
    public static void Watch(JsonLeases leases)
    {
        if (Leases.TryAdd(leases, 0))
        {
            if (_thread is null)
            {
                lock (Start)
                {
                    _thread ??= new Thread(Run) { IsBackground = true, Name = "Multichat Json lease keeper" };
                    if (!_thread.IsAlive)
                    {
                        _thread.Start();
                    }
                }
            }

            Wake.Set();
        }
    }

    private static void Run()
    {
        while (true)
        {
            if (Leases.IsEmpty)
            {
                Wake.WaitOne();
            }

            Thread.Sleep(2);
            foreach (var leases in Leases.Keys)
            {
                // Removed first and put back while it still holds locks, so a lock taken meanwhile is never missed:
                // Watch adds the instance again after its lock was recorded.
                Leases.TryRemove(leases, out _);
                if (leases.ReleaseUnneeded())
                {
                    Leases.TryAdd(leases, 0);
                }
            }
        }
    }
}

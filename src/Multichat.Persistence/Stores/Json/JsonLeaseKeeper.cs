using System.Collections.Concurrent;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// One background thread per process that, every 2 ms, lets Json store instances give up session locks they no longer
/// need (idle, or wanted by another process). A dedicated sleeping thread rather than a 1 ms timer: timer callbacks
/// wake thread-pool workers that then spin looking for work, which costs appenders CPU on small machines.
/// </summary>
internal static class JsonLeaseKeeper
{
    private static readonly ConcurrentDictionary<JsonStore, byte> Stores = new();
    private static readonly AutoResetEvent Wake = new(false);
    private static readonly object Start = new();
    private static Thread? _thread;

    /// <summary>Asks for <see cref="JsonStore.ReleaseUnneededLeases"/> calls until it returns false.</summary>
    public static void Watch(JsonStore store)
    {
        if (Stores.TryAdd(store, 0))
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
            if (Stores.IsEmpty)
            {
                Wake.WaitOne();
            }

            Thread.Sleep(2);
            foreach (var store in Stores.Keys)
            {
                // Removed first and put back while it still holds locks, so a lock taken meanwhile is never missed:
                // Watch adds the store again after its lock was recorded.
                Stores.TryRemove(store, out _);
                if (store.ReleaseUnneededLeases())
                {
                    Stores.TryAdd(store, 0);
                }
            }
        }
    }
}

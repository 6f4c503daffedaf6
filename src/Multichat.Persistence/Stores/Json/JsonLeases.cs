using System.Collections.Concurrent;
using System.Diagnostics;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The session locks of one store instance: taking one (waiting for another process to hand it over), and letting go
/// of those no longer needed — idle ones, and busy ones another process waits for. A lock is kept while the session
/// stays busy (a lease), so a run of appends pays nothing for coordination. See docs/storage/json.md.
/// </summary>
internal sealed class JsonLeases(JsonStoreContext context)
{
    private static readonly long IdleRelease = Stopwatch.Frequency * 2 / 1000;
    private static readonly long MinSlice = Stopwatch.Frequency * 2 / 1000;
    private static readonly long Courtesy = Stopwatch.Frequency * 3 / 1000;
    private static readonly long Restamp = Stopwatch.Frequency * 10 / 1000;

    // Id files stay mapped across leases, so the next append to a session needs no new mapping. Past this many, an idle
    // session's mapping is closed when its lease ends: a process writing to 100,000 sessions must not hold 100,000
    // mappings (Linux allows about 65,000 per process).
    private const int MaxMappedIds = 256;

    private readonly ConcurrentDictionary<JsonSessionState, byte> _held = new();
    private int _closing;

    /// <summary>From now on every lock is let go as soon as it is free (the store is being disposed).</summary>
    public void Close() => Volatile.Write(ref _closing, 1);

    /// <summary>Takes the session's lock and catches up with the folder; the caller holds the session's gate since <paramref name="started"/>.</summary>
    public async Task AcquireAsync(JsonSessionState state, long started, CancellationToken cancellationToken)
    {
        var lease = state.Lease;
        var courtesy = lease.CourtesyUntil - Stopwatch.GetTimestamp();
        if (courtesy > 0)
        {
            // We just handed the lock to a waiting process: give it the time to take it.
            await Task.Delay(TimeSpan.FromSeconds((double)courtesy / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
        }

        var timeout = context.LockTimeout;
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive OS lock (flock on Unix, a share mode on Windows), released by the OS
                // when the process dies, so a crashed holder never blocks the others.
                lease.Lock = context.Files.Open(lease.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
                break;
            }
            catch (IOException ex) when (ex is not DirectoryNotFoundException and not PathTooLongException)
            {
                if (Stopwatch.GetElapsedTime(started) > timeout)
                {
                    JsonStoreLog.LockTimedOut(context.Logger, timeout.TotalSeconds);
                    throw new StoreUnavailableException(
                        $"A session of the Json store at '{context.Root}' stayed locked by another process for {timeout.TotalSeconds:0} s; that process may be stuck. Retry later.",
                        ex);
                }

                SignalWant(lease.WantPath);
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            lease.Want = context.Files.Open(lease.WantPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
            if (lease.Want.Length > 0)
            {
                lease.Want.SetLength(0);
            }

            var now = Stopwatch.GetTimestamp();
            lease.AcquiredAt = now;
            lease.LastUsed = now;
            lease.LastStamp = now;
            context.Board.Stamp(lease.Slot, held: true);
            _held[state] = 0;
            JsonLeaseKeeper.Watch(this);

            state.Validate(context);
        }
        catch
        {
            Release(state, unmap: true);
            state.Forget();
            throw;
        }
    }

    /// <summary>
    /// Takes a free session lock at dispose, without waiting, so the id file this instance wrote to gets its checkpoint
    /// (its lease usually ended idle, without one). Busy or gone: skipped, the checkpoint only shortens recovery after a power loss.
    /// </summary>
    public void LockForCheckpoint(JsonSessionState state)
    {
        try
        {
            state.Lease.Lock = new FileStream(state.Lease.LockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1);
            state.Validate(context);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SessionPersistenceException)
        {
            state.Forget();
        }
    }

    /// <summary>
    /// Lets go of a session's lock; the caller holds the session's gate. <paramref name="final"/>: the store is being
    /// disposed; <paramref name="unmap"/>: also close the session's id file mapping.
    /// </summary>
    public void Release(JsonSessionState state, bool final = false, bool unmap = false)
    {
        var lease = state.Lease;
        if (lease.Lock is null)
        {
            return;
        }

        // Windows cannot rename a grown id file over one another process still maps, so there only the holder maps it.
        state.EndLease(context, final, unmap || OperatingSystem.IsWindows());
        lease.Want?.Dispose();
        lease.Want = null;
        try
        {
            // Stamped before unlocking: whoever sees the stamp sees every write made under this lease.
            context.Board.Stamp(lease.Slot, held: false);
        }
        catch (IOException)
        {
        }

        lease.Lock.Dispose();
        lease.Lock = null;
        _held.TryRemove(state, out _);
    }

    /// <summary>
    /// Lets go of the locks this instance no longer needs: idle ones, and busy ones another process waits for (after a
    /// short slice, and then leaves them alone a moment so the waiter gets them). Returns whether any lock is still held.
    /// </summary>
    public bool ReleaseUnneeded()
    {
        foreach (var state in _held.Keys)
        {
            var lease = state.Lease;
            if (!lease.Gate.Wait(0))
            {
                continue;
            }

            try
            {
                if (lease.Lock is null)
                {
                    _held.TryRemove(state, out _);
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                if (now - lease.LastUsed >= IdleRelease || Volatile.Read(ref _closing) != 0)
                {
                    Release(state, unmap: context.MappedIds > MaxMappedIds);
                }
                else if (now - lease.AcquiredAt >= MinSlice && lease.Want is { } want && want.Length > 0)
                {
                    Release(state);
                    lease.CourtesyUntil = now + Courtesy;
                }
                else if (now - lease.LastStamp >= Restamp)
                {
                    context.Board.Stamp(lease.Slot, held: true);
                    lease.LastStamp = now;
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // Tried again on the next pass.
            }
            finally
            {
                lease.Gate.Release();
            }
        }

        return !_held.IsEmpty;
    }

    /// <summary>Tells the holder of a session's lock that a process waits for it (the holder watches the file's length).</summary>
    private void SignalWant(string path)
    {
        try
        {
            using var want = context.Files.Open(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);
            want.WriteByte(1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only a hint: the holder lets go when idle anyway.
        }
    }
}

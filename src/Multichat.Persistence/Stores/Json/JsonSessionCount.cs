using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// <c>{root}/sessions.count</c>: the store-level lock and session count behind MaxSessions. Creates under a limit hold
/// its OS lock across the whole create, so checking, evicting and creating are one step across processes. The count is
/// an upper bound of the sessions stored: a create raises it before writing the session and lowers it again only when
/// nothing was stored, a delete (an eviction too) lowers it after the session is gone, so a crash can only leave it too
/// high. When it says full, the sessions are counted again (a folder listing) under the lock, and the create is refused,
/// or makes room, only if still full.
/// Creates and imports that do not take the lock (no limit) stamp the board's <see cref="JsonActivityBoard.UncountedSlot"/>
/// instead; a count recorded before the latest stamp, or in an earlier boot, is not trusted until counted again.
/// See docs/storage/json.md.
/// </summary>
internal sealed class JsonSessionCount(JsonStoreContext context, JsonCatalog catalog) : IDisposable
{
    private const int RecordSize = 48;
    private static ReadOnlySpan<byte> Magic => "MCHCNT1\n"u8;

    private readonly string _path = Path.Combine(context.Root, "sessions.count");

    // One waiter per instance polls the file lock; the others queue here.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// Runs <paramref name="create"/> under the lock if the store holds fewer than <see cref="SessionLimit.MaxSessions"/>
    /// sessions, with one more reserved in the count while it runs. At the limit, refuses, or under
    /// <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/> first deletes the least recently active sessions through
    /// <paramref name="delete"/> until there is room.
    /// </summary>
    /// <param name="limit">The limit, <see cref="SessionLimit.IsLimited"/>.</param>
    /// <param name="sessionId">The id being created.</param>
    /// <param name="sessionPath">The session's <c>session.json</c>: tells a refused create of an existing id, and a failed create that stored nothing.</param>
    /// <param name="create">Creates the session; throws <see cref="SessionAlreadyExistsException"/> when it exists. Gets
    /// the caller's token, or none once a session was evicted for it (a cancelled create would then have cost a session
    /// for nothing).</param>
    /// <param name="delete">Deletes a session through the store's ordinary delete (under that session's lock); false when
    /// it was gone already.</param>
    /// <param name="cancellationToken">Cancels the wait for the lock and an eviction's delete.</param>
    public async Task<ChatSession> CreateAsync(
        SessionLimit limit,
        string sessionId,
        string sessionPath,
        Func<CancellationToken, Task<ChatSession>> create,
        Func<string, CancellationToken, Task<bool>> delete,
        CancellationToken cancellationToken)
    {
        var maxSessions = limit.MaxSessions;
        var started = await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var file = await LockAsync(started, cancellationToken).ConfigureAwait(false);
            var record = Read(file);
            if (!IsTrusted(record) || (record.Count >= maxSessions && !IsExact(record)))
            {
                record = Recount(file);
            }

            var evicted = false;
            if (record.Count >= maxSessions)
            {
                // The same answer as the Memory store gives: an existing id is a conflict before it is a quota matter, and
                // nothing is evicted for it.
                if (File.Exists(sessionPath))
                {
                    throw SessionAlreadyExistsException.ForSession(sessionId);
                }

                if (!limit.Evicts)
                {
                    throw QuotaExceededException.ForSessions(maxSessions);
                }

                record = await EvictAsync(file, record, maxSessions, sessionId, delete, cancellationToken).ConfigureAwait(false);
                evicted = true;
            }

            // The reservation goes first: a crash from here on leaves the count too high, never too low.
            Write(file, record with { Count = record.Count + 1, ExactAt = 0 });
            try
            {
                return await create(evicted ? CancellationToken.None : cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (StoredNothing(ex, sessionPath))
            {
                Write(file, record with { ExactAt = 0 });
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Deletes the session listed last until the count is below <paramref name="maxSessions"/>, lowering the count after
    /// each (so a crash between an eviction and the create leaves the count right, the victim gone, the new session not
    /// created). <paramref name="record"/> is exact here: recounted, or unchanged since its last count.
    /// </summary>
    private async Task<Record> EvictAsync(
        SafeFileHandle file, Record record, int maxSessions, string sessionId, Func<string, CancellationToken, Task<bool>> delete, CancellationToken cancellationToken)
    {
        // Each candidate is tried once, so the loop ends even when the listing keeps offering one that is already gone.
        var tried = new HashSet<string>(StringComparer.Ordinal) { sessionId };
        while (record.Count >= maxSessions)
        {
            // Damaged records are counted but never listed: a store full of them has nothing to evict.
            var victim = catalog.LeastRecentlyActive(tried)?.SessionId ?? throw QuotaExceededException.ForSessions(maxSessions);
            tried.Add(victim);
            bool deleted;
            try
            {
                deleted = await delete(victim, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreCorruptedException)
            {
                // Its record was damaged since it was listed: it stays (and counted); the next one goes instead.
                continue;
            }

            if (!deleted)
            {
                // Deleted by another instance since it was listed, without lowering the count: count again.
                record = Recount(file);
                continue;
            }

            record = record with { Count = record.Count - 1, ExactAt = 0 };
            Write(file, record);
            SessionEvictionLog.Report(context.Logger, JsonStore.StoreName, victim, sessionId, maxSessions);
        }

        return record;
    }

    /// <summary>Runs <paramref name="delete"/> under the lock and lowers the count when it deleted a session.</summary>
    public async Task<bool> DeleteAsync(Func<Task<bool>> delete, CancellationToken cancellationToken)
    {
        var started = await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var file = await LockAsync(started, cancellationToken).ConfigureAwait(false);
            var deleted = await delete().ConfigureAwait(false);
            var record = Read(file);
            if (deleted && IsTrusted(record) && record.Count > 0)
            {
                // After the session is gone: a crash before this line leaves the count one too high.
                Write(file, record with { Count = record.Count - 1, ExactAt = 0 });
            }

            return deleted;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private static bool StoredNothing(Exception ex, string sessionPath)
    {
        if (ex is SessionAlreadyExistsException)
        {
            return true;
        }

        try
        {
            // A failure after session.json was written keeps the reservation: too high is safe, too low is not.
            return !File.Exists(sessionPath);
        }
        catch (Exception probe) when (probe is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Trusted: written in this boot (a power loss may have lost a raise) and after every uncounted create or import.</summary>
    private bool IsTrusted(Record record) =>
        record.Valid && JsonBoot.IsCurrent(record.BootTime, record.BootId) && record.SeenUncounted == context.Board.Read(JsonActivityBoard.UncountedSlot);

    /// <summary>Exact: counted, and no session was created, imported or deleted since (all of them stamp slot 0).</summary>
    private bool IsExact(Record record) => record.ExactAt != 0 && record.ExactAt == context.Board.Read(0);

    private Record Recount(SafeFileHandle file)
    {
        // The stamps are read before the folders: a change that lands while we list is seen as a change next time.
        var uncounted = context.Board.Read(JsonActivityBoard.UncountedSlot);
        var changed = context.Board.Read(0);
        long count = 0;
        foreach (var folder in Directory.EnumerateDirectories(context.SessionsFolder))
        {
            if (File.Exists(Path.Combine(folder, "session.json")))
            {
                count++;
            }
        }

        // 0 is "not exact"; a stamp is 0 only with odds of 2^-63, and then the next create counts again.
        var record = new Record(true, count, uncounted, changed, JsonBoot.Time, JsonBoot.Id);
        Write(file, record);
        return record;
    }

    /// <summary>Takes the in-process gate within the lock timeout; returns when the wait started, for the file lock's share of it.</summary>
    private async Task<long> EnterAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (!await _gate.WaitAsync(context.LockTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw TimedOut(null);
        }

        return started;
    }

    private StoreUnavailableException TimedOut(IOException? inner)
    {
        JsonStoreLog.CountLockTimedOut(context.Logger, context.LockTimeout.TotalSeconds);
        return new StoreUnavailableException(
            $"The session count of the Json store at '{context.Root}' stayed locked for {context.LockTimeout.TotalSeconds:0} s (JsonLockTimeout); a process creating or deleting sessions may be stuck. Retry later.",
            inner);
    }

    private async Task<SafeFileHandle> LockAsync(long started, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive OS lock (flock on Unix), released by the OS if the process dies.
                return context.Files.OpenHandle(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (ex is not DirectoryNotFoundException and not PathTooLongException)
            {
                if (Stopwatch.GetElapsedTime(started) > context.LockTimeout)
                {
                    throw TimedOut(ex);
                }
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Record Read(SafeFileHandle file)
    {
        Span<byte> bytes = stackalloc byte[RecordSize];
        if (RandomAccess.Read(file, bytes, 0) != RecordSize || !bytes[..8].SequenceEqual(Magic))
        {
            return default;
        }

        return new Record(
            true,
            BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[40..]));
    }

    private void Write(SafeFileHandle file, Record record)
    {
        Span<byte> bytes = stackalloc byte[RecordSize];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], record.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], record.SeenUncounted);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[24..], record.ExactAt);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[32..], record.BootTime);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[40..], record.BootId);

        // Never flushed to the disk: a count written before a power loss is not trusted after the reboot (boot stamp).
        context.Faults?.Reach(JsonFaultPoints.CountBeforeWrite);
        RandomAccess.Write(file, bytes, 0);
        context.Faults?.Reach(JsonFaultPoints.CountAfterWrite);
    }

    /// <param name="Valid">False when the file is missing, short or not ours: count again.</param>
    /// <param name="Count">An upper bound of the sessions stored.</param>
    /// <param name="SeenUncounted">The board's uncounted stamp when the sessions were last counted.</param>
    /// <param name="ExactAt">The board's slot 0 when the sessions were last counted, or 0 once anything changed the count since.</param>
    /// <param name="BootTime">The boot the record was written in (see <see cref="JsonBoot"/>).</param>
    /// <param name="BootId">The boot id the record was written in.</param>
    private readonly record struct Record(bool Valid, long Count, ulong SeenUncounted, ulong ExactAt, long BootTime, ulong BootId);
}

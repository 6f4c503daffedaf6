using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// A session's idempotency index (<c>ids.idx</c>, see <see cref="JsonIdFile"/>) as this instance uses it: mapped on the
/// first append and kept across leases, checked once per lease against the messages file, and caught up with every
/// committed line. The table is derived data: whatever does not check out is replaced by an empty table and rebuilt
/// from the messages file by one forward pass.
/// </summary>
internal sealed class JsonIdIndex(string path)
{
    private readonly List<long> _candidates = [];
    private JsonIdFile? _ids;
    private bool _checked;

    public string Path { get; } = path;

    /// <summary>Whether the id file this instance maps has lines indexed since its last checkpoint (a hint: read without the lock).</summary>
    public bool HasUnsynced => _ids is { IsOpen: true } ids && ids.IndexedThrough > ids.SyncedThrough;

    /// <summary>The mapping stays, but is checked against the files again before its next use (a new lease, or new files).</summary>
    public void Uncheck() => _checked = false;

    /// <summary>The table to record new lines in, when this lease checked it and it is caught up with the file; else null.</summary>
    public JsonIdFile? Current(long length) => _checked && _ids is { IsOpen: true } open && open.IndexedThrough == length ? open : null;

    /// <summary>
    /// Checkpoints the table (see <see cref="JsonIdFile.Checkpoint"/>) when it has unsynced lines, after flushing the
    /// messages file unless every append already was (<paramref name="flushed"/>). Called under the lock, just before it is let go.
    /// </summary>
    public void Checkpoint(JsonMessageLog log, bool flushed, FaultInjection? faults)
    {
        if (_ids is not { IsOpen: true } ids || ids.Superseded)
        {
            return;
        }

        try
        {
            if (ids.IndexedThrough - ids.SyncedThrough > 0)
            {
                // Normal appends were never flushed: the lines go to the disk before the table that indexes them,
                // so after a power loss the file is at least as long as SyncedThrough says.
                faults?.Reach(JsonFaultPoints.CheckpointBeforeFlushLog);
                if (!flushed)
                {
                    RandomAccess.FlushToDisk(log.Handle);
                    faults?.Reach(JsonFaultPoints.CheckpointAfterFlushLog);
                }

                ids.Checkpoint();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A checkpoint only shortens the catch-up after a power loss; the table itself is intact. Swallowed
            // here, because the caller must still let go of the lock.
        }
    }

    public void Close(JsonStoreContext context)
    {
        if (_ids is not null)
        {
            _ids.Dispose();
            _ids = null;
            context.CountMappedIds(-1);
        }

        _checked = false;
    }

    /// <summary>Closes and deletes the table: the messages file it indexed is gone or replaced.</summary>
    public void Delete(JsonStoreContext context)
    {
        Close(context);
        context.Faults?.Reach(JsonFaultPoints.IdsBeforeDelete);
        File.Delete(Path);
        context.Faults?.Reach(JsonFaultPoints.IdsAfterDelete);
    }

    /// <summary>The stored message with this id (not trimmed), or null; <paramref name="ids"/> is what <see cref="Open"/> returned this lease.</summary>
    public ChatMessage? FindStored(JsonStoreContext context, JsonMessageLog log, JsonSessionDocument document, JsonIdFile ids, string id)
    {
        ids.Candidates(JsonSessionKey.HashOf(id), log.FirstLineSequence, log.LastLineSequence, _candidates);
        foreach (var sequence in _candidates)
        {
            if (sequence >= document.FirstSequence && log.ReadAt(context, document.SessionId, sequence) is { } stored && string.Equals(stored.Id, id, StringComparison.Ordinal))
            {
                return stored;
            }
        }

        return null;
    }

    /// <summary>The table, checked once per lease and caught up with every committed line of <paramref name="log"/>.</summary>
    public JsonIdFile Open(JsonStoreContext context, JsonMessageLog log, string incarnation)
    {
        if (!_checked || _ids is not { IsOpen: true })
        {
            Map(context, log, JsonIdFile.HashIncarnation(incarnation));
            _checked = true;
        }

        var ids = _ids!;
        if (ids.IndexedThrough < log.Length)
        {
            // A writer died between its lines and their slots, or wrote without the table (an import): index the
            // missing lines. Slots already present are left alone, so indexing a line twice is harmless.
            CatchUp(context, log, ids);
        }

        return ids;
    }

    private void Map(JsonStoreContext context, JsonMessageLog log, ulong incarnation)
    {
        if (_ids is { } mapped && (!mapped.IsOpen || mapped.Superseded || !Describes(mapped, log, incarnation)))
        {
            // Replaced by another process (grown or rebuilt), or no longer matching the file: look at the path again.
            Close(context);
        }

        if (_ids is null)
        {
            var opened = JsonIdFile.TryOpen(Path, context.Faults, context.Files);
            if (opened is not null)
            {
                context.CountMappedIds(1);
                _ids = opened;
                if (opened.Superseded)
                {
                    // A writer died between marking this file superseded and renaming its replacement over it: nothing
                    // was written to it after the mark, so its table is whole.
                    opened.Reinstate();
                }

                // After a reboot only the checkpointed part is certain (IndexedThrough goes back to SyncedThrough).
                opened.DropUnsyncedIfRebooted();
                if (!opened.ChecksumHolds() || !Describes(opened, log, incarnation) || !LastIndexedLineIsIn(opened, log))
                {
                    Rebuild(context, log, incarnation);
                }
            }
            else
            {
                Rebuild(context, log, incarnation);
            }
        }
    }

    /// <summary>
    /// Whether a table indexes this incarnation of the messages file, up to a point within its committed part. A negative
    /// point is a damaged header (or SyncedThrough, which a reboot makes the point): reading the line before it would be
    /// a read at a negative offset.
    /// </summary>
    private static bool Describes(JsonIdFile ids, JsonMessageLog log, ulong incarnation) =>
        ids.Incarnation == incarnation && ids.IndexedThrough >= 0 && ids.IndexedThrough <= log.Length;

    /// <summary>
    /// Checks, with one small read, that the table's IndexedThrough ends a line whose id the table proposes: a table that
    /// describes another file of the same length (one copied or restored by hand) is caught before it is trusted.
    /// </summary>
    private bool LastIndexedLineIsIn(JsonIdFile ids, JsonMessageLog log)
    {
        var through = ids.IndexedThrough;
        if (through == 0)
        {
            return true;
        }

        var ok = false;
        Span<byte> last = stackalloc byte[1];
        if (RandomAccess.Read(log.Handle, last, through - 1) != 1 || last[0] != (byte)'\n')
        {
            return false;
        }

        JsonLineScanner.Backward(log.Handle, Math.Max(0, through - (64 * 1024)), through, (line, offset) =>
        {
            if (!JsonMessageLine.TryReadHeader(line, out var sequence, out var id, out _, out _))
            {
                ok = true; // a damaged line has no slot to look for
                return false;
            }

            ids.Candidates(JsonSessionKey.HashOf(id!), log.FirstLineSequence, log.LastLineSequence, _candidates);
            ok = _candidates.Contains(sequence);
            return false;
        }, 4096);
        return ok;
    }

    /// <summary>Replaces the id file with an empty table for this incarnation; the caller's catch-up fills it from the messages file.</summary>
    private void Rebuild(JsonStoreContext context, JsonMessageLog log, ulong incarnation)
    {
        var old = _ids;
        _ids = null;
        if (old is not null)
        {
            context.CountMappedIds(-1); // closed by Create, which marks it superseded first
        }

        var lines = log.LastLineSequence > 0 ? log.LastLineSequence - log.FirstLineSequence + 1 : 0;

        // The sequences the old table saw issued stay issued, even when the lines that held them are gone.
        var highest = old is { IsOpen: true } ? old.Highest : 0;
        try
        {
            _ids = JsonIdFile.Create(Path, incarnation, lines, old, highest, context.Faults, context.Files);
            context.CountMappedIds(1);
        }
        finally
        {
            // Create closes the old mapping once it is superseded; when it failed before that, close it here.
            old?.Dispose();
        }
    }

    private static void CatchUp(JsonStoreContext context, JsonMessageLog log, JsonIdFile ids)
    {
        // Memory stays bounded by the scan's block, whatever the file's size.
        JsonLineScanner.Forward(log.Handle, ids.IndexedThrough, log.Length, (line, offset) =>
        {
            if (JsonMessageLine.TryReadHeader(line, out var sequence, out var id, out _, out _))
            {
                ids.Add(JsonSessionKey.HashOf(id!), sequence);
            }
            else
            {
                context.ReportDamaged(offset, line.Length);
            }

            ids.IndexedThrough = offset + line.Length + 1;
            return true;
        }, 256 * 1024);
    }
}

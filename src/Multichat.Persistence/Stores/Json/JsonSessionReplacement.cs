using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// Replaces a whole session (record and messages) in one atomic step, for a restore. The new messages are streamed into
/// <c>messages.jsonl.restore</c> beside the live files (one batch in memory at a time), without the session's lock, so
/// readers and writers keep using the old session meanwhile. Then, under the session's lock, the new record is written as
/// <c>session.json.restore</c> — the commit point — and both are renamed over the live files. Whoever next takes the
/// lock finishes a committed replacement that was cut short, and deletes an uncommitted one. See docs/storage/json.md, "Restore".
/// A guarded replacement (re-encryption) checks, under the same lock and before the commit point, that the session is still
/// what it read; if not, nothing is committed and the staged messages are deleted.
/// </summary>
internal static class JsonSessionReplacement
{
    /// <summary>The new messages while they are written; complete only once <see cref="StagedRecordName"/> exists.</summary>
    public const string StagedMessagesName = "messages.jsonl.restore";

    /// <summary>The new record, written (atomically, by rename) only after the staged messages are complete: the commit point.</summary>
    public const string StagedRecordName = "session.json.restore";

    /// <summary>A guarded replacement's read cursors, tagged with the new life's epoch, written just before the commit
    /// point and renamed over <c>reads.json</c> with the rest.</summary>
    public const string StagedReadsName = "reads.json.restore";

    // Held (FileShare.None, like .lock) by a replacement from its first staged byte to its commit: replacements of one
    // session queue on it, and a lock holder deletes a staged file only when no replacement holds it (a dead one's leftover).
    private const string ReplacingLockName = ".restore.lock";

    /// <summary>
    /// Stages <paramref name="batches"/> and then commits through <paramref name="underLock"/>, which runs its argument
    /// under the session's lock (creating the session's folder) and translates I/O failures like every other operation.
    /// With <paramref name="expected"/>, the commit happens only if the session, as read under that lock, meets it.
    /// </summary>
    /// <exception cref="ConcurrencyConflictException">The session no longer meets <paramref name="expected"/>; it was
    /// left as it is.</exception>
    public static async Task ReplaceAsync(
        JsonStoreContext context,
        ChatSession session,
        IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches,
        ReplacementExpectation? expected,
        Func<Func<JsonSessionState, bool>, Task> underLock,
        CancellationToken cancellationToken)
    {
        var folder = Path.Combine(context.SessionsFolder, JsonSessionKey.For(session.SessionId));
        var document = JsonSessionDocument.From(SessionRecords.Imported(session), JsonStoreContext.NewIncarnation());
        FileStream? replacing = null;
        var staged = Path.Combine(folder, StagedMessagesName);
        var committed = false;
        try
        {
            try
            {
                context.Files.CreateFolder(folder);
                replacing = await TakeReplacingLockAsync(context, Path.Combine(folder, ReplacingLockName), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Unavailable(context, ex);
            }

            await StageAsync(context, document, staged, batches, cancellationToken).ConfigureAwait(false);

            await underLock(state =>
            {
                // The state was validated under the lock: what it says is what every other process sees until we let go.
                if (expected is { } expectation && (state.Document is null || !expectation.IsMetBy(state.Snapshot())))
                {
                    throw expectation.Conflict(session.SessionId, state.Document?.Version);
                }

                // Stamped before the commit too, so a kill after it still makes the next create under a limit count again.
                StampChanged(context);

                // A guarded replacement (re-encryption) continues the session's life: its epoch and cursors, read under this lock
                // (no mark can land until we let go), go on with it. A restore's new life starts without.
                if (expected is not null)
                {
                    // Its epoch too: the plain content is the same, so a cache or a watcher has nothing to redo.
                    document.Epoch = state.Document!.Epoch;
                    var cursors = state.Reads.Read(context, state.Document!, state.Snapshot().LastSequence);
                    if (cursors.Count > 0)
                    {
                        JsonReadCursors.WriteFor(context, Path.Combine(state.Folder, StagedReadsName), document.Epoch, cursors);
                    }
                }

                // From the staged record on, the replacement is committed: the staged messages must stay for the roll-forward.
                context.WriteDocument(Path.Combine(state.Folder, StagedRecordName), document);
                committed = true;
                Apply(context, state);
                state.Validate(context);
                return true;
            }).ConfigureAwait(false);
        }
        finally
        {
            // Only the holder of the replacing lock may delete the staged file: without it, it is another replacement's.
            if (!committed && replacing is not null)
            {
                TryDelete(staged);
                TryDelete(Path.Combine(folder, StagedReadsName));
            }

            replacing?.Dispose();
        }
    }

    /// <summary>
    /// Finishes or undoes a replacement cut short, before the lock holder reads the session: a committed one (its record
    /// staged) is rolled forward, an uncommitted one's messages are deleted unless a replacement is still writing them.
    /// Costs two failed file lookups when there is nothing to do.
    /// </summary>
    public static void Recover(JsonStoreContext context, JsonSessionState state)
    {
        var record = Path.Combine(state.Folder, StagedRecordName);
        if (File.Exists(record))
        {
            JsonStoreLog.ReplacementRolledForward(context.Logger);
            Apply(context, state);
            return;
        }

        var staged = Path.Combine(state.Folder, StagedMessagesName);
        if (File.Exists(staged))
        {
            try
            {
                using var replacing = context.Files.Open(Path.Combine(state.Folder, ReplacingLockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
                File.Delete(staged);
                File.Delete(Path.Combine(state.Folder, StagedReadsName));
            }
            catch (IOException)
            {
                // A replacement is writing it right now; it commits or deletes it itself.
            }
        }
    }

    /// <summary>
    /// What a listing should read for a folder: a committed replacement's staged files while they are not yet renamed
    /// (a replacement cut short after its commit point), else the live ones.
    /// </summary>
    public static (string Record, string Messages) ListedFiles(string folder)
    {
        var record = Path.Combine(folder, StagedRecordName);
        if (!File.Exists(record))
        {
            return (Path.Combine(folder, "session.json"), Path.Combine(folder, "messages.jsonl"));
        }

        var messages = Path.Combine(folder, StagedMessagesName);
        return (record, File.Exists(messages) ? messages : Path.Combine(folder, "messages.jsonl"));
    }

    private static async Task<FileStream> TakeReplacingLockAsync(JsonStoreContext context, string path, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return context.Files.Open(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException ex) when (ex is not DirectoryNotFoundException and not PathTooLongException)
            {
                if (Stopwatch.GetElapsedTime(started) > context.LockTimeout)
                {
                    throw new StoreUnavailableException(
                        $"Another restore of a session of the Json store at '{context.Root}' kept running for {context.LockTimeout.TotalSeconds:0} s (JsonLockTimeout). Retry later.",
                        ex);
                }
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes the messages file of the new session, one batch in memory at a time, and counts its gaps the way
    /// <see cref="JsonSessionState.Import"/> does for a session imported with no messages yet.
    /// </summary>
    private static async Task StageAsync(
        JsonStoreContext context, JsonSessionDocument document, string path, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using var writer = new Utf8JsonWriter(buffer, JsonMessageLine.WriterOptions);
        long firstLine = 0, lastLine = 0, gaps = 0;
        using var file = OpenStaged(context, path);
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (batch.Count == 0)
            {
                continue;
            }

            ImportChecks.EnsureAscending(batch, lastLine);
            var previous = JsonSessionState.Count(document, firstLine, lastLine) > 0 ? lastLine
                : document.FirstSequence > 0 || lastLine > 0 ? Math.Max(document.FirstSequence, lastLine + 1) - 1
                : batch[0].Sequence - 1;

            buffer.ResetWrittenCount();
            for (var i = 0; i < batch.Count; i++)
            {
                gaps += batch[i].Sequence - previous - 1;
                previous = batch[i].Sequence;
                JsonMessageLine.Write(writer, buffer, MessageRecords.Imported(batch[i]), at: null, more: i < batch.Count - 1);
            }

            try
            {
                await file.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Translated here, not around the loop: a failure of the archive being read passes through as it is.
                throw Unavailable(context, ex);
            }

            if (firstLine == 0)
            {
                firstLine = batch[0].Sequence;
            }

            lastLine = batch[^1].Sequence;
        }

        // In Normal a kill -9 cannot lose what the OS was handed; Full also survives a power loss from the commit on.
        try
        {
            file.Flush(context.FlushToDisk);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(context, ex);
        }

        document.Gaps = gaps;
    }

    private static FileStream OpenStaged(JsonStoreContext context, string path)
    {
        try
        {
            return context.Files.Open(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(context, ex);
        }
    }

    private static StoreUnavailableException Unavailable(JsonStoreContext context, Exception ex) =>
        new($"The Json store at '{context.Root}' could not write a restored session's files: {ex.Message} The session was left as it was.", ex);

    /// <summary>
    /// Renames a committed replacement's staged files over the live ones (messages first, the record last) and forgets
    /// what was cached of the old session. Safe to repeat after a crash at any point: each rename is atomic and a done
    /// one is skipped. The caller reads the session again (<see cref="JsonSessionState.Validate"/>).
    /// </summary>
    private static void Apply(JsonStoreContext context, JsonSessionState state)
    {
        // The id file indexes the old messages, and with them the old highest sequence: dropped, as an import with
        // replaceExisting does. The next append builds it from the new file, so retries of restored ids are recognised.
        state.Log.Close();
        state.Ids.Delete(context);
        var messages = Path.Combine(state.Folder, StagedMessagesName);
        if (File.Exists(messages))
        {
            File.Move(messages, state.Log.Path, overwrite: true);
        }

        File.Move(Path.Combine(state.Folder, StagedRecordName), state.SessionPath, overwrite: true);

        // The cursors a guarded replacement staged go on with the new life; otherwise it has none (a restore marks the
        // archive's after this). Either way after the record: the new epoch already hides the old file from a crash in between.
        var reads = Path.Combine(state.Folder, StagedReadsName);
        state.Reads.Delete();
        if (File.Exists(reads))
        {
            File.Move(reads, state.Reads.Path, overwrite: false);
        }
        StampChanged(context);

        // The new record carries a new incarnation: this instance, and any other process at its next lease, drops
        // what it cached of the old messages.
        state.Forget();
    }

    /// <summary>
    /// As an import: the folder list and the session changed (listings look again), and the session count may not know
    /// this session (the next create under a limit counts again).
    /// </summary>
    private static void StampChanged(JsonStoreContext context)
    {
        context.Board.Stamp(0, held: false);
        context.Board.Stamp(JsonActivityBoard.UncountedSlot, held: false);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The next lock holder deletes it.
        }
    }
}

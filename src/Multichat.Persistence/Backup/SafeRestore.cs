using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Backup;

/// <summary>
/// Restores an archive without ever acting on a damaged one: a first pass reads it to the end (structure, counts,
/// SHA-256, this store's limits, and for <see cref="RestoreMode.Fail"/> that no session exists yet) and writes
/// nothing; only then a second pass writes, each session as one atomic replacement. A stream that cannot seek is
/// spooled to a temporary file first, so both passes read the same bytes.
/// </summary>
internal static class SafeRestore
{
    private const int BatchSize = 1000;

    public static async Task<ImportReport> RunAsync(
        ISessionStore store,
        InputValidator validate,
        Stream source,
        RestoreMode mode,
        IProgress<TransferProgress>? progress,
        FileCreator files,
        CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "RestoreMode must be Replace, Skip or Fail.");
        }

        string? spool = null;
        var archive = source;
        try
        {
            if (!source.CanSeek)
            {
                spool = Path.Combine(Path.GetTempPath(), $"multichat-restore-{Guid.NewGuid():N}.mcbak");
                // The spool holds the whole archive, content included, in the shared temporary folder: owner-only too.
                archive = files.Open(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await source.CopyToAsync(archive, cancellationToken).ConfigureAwait(false);
                archive.Position = 0;
            }

            var start = archive.Position;
            var info = await VerifyAsync(archive, validate, mode == RestoreMode.Fail ? store : null, cancellationToken).ConfigureAwait(false);
            archive.Position = start;
            return await WriteAsync(store, archive, mode, TransferCounter.For(progress, info.Sessions, info.Messages), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (spool is not null)
            {
                await archive.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads the whole archive and checks it; writes nothing. With <paramref name="validate"/>, also that
    /// this store accepts every record; with <paramref name="refuseExisting"/>, that none of its sessions exist there.</summary>
    /// <remarks>
    /// A record this store refuses is reported only once the archive has read to its end whole: a damaged archive is
    /// reported as damaged (<see cref="StoreCorruptedException"/>), even when the damage also made a record invalid, so
    /// nobody changes a store's settings to take an archive that was altered.
    /// </remarks>
    public static async Task<BackupInfo> VerifyAsync(Stream archive, InputValidator? validate, ISessionStore? refuseExisting, CancellationToken cancellationToken)
    {
        ArchiveHeader? header = null;
        long sessions = 0, messages = 0;
        Exception? refusal = null;
        await foreach (var item in BackupArchive.ReadAsync(archive, h => header = h, cancellationToken).ConfigureAwait(false))
        {
            if (item.Session is { } session)
            {
                sessions++;
                // The pipeline's own import check: the checking pass refuses whatever the writing pass would, or a restore
                // could replace some sessions and then fail on a later one.
                refusal ??= Accept(validate, session.SessionId, v => v.ImportedSession(session, nameof(archive)));
                refusal ??= Accept(validate, session.SessionId, _ => InputValidator.ReadCursors(item.ReadCursors, session, nameof(archive)));
                if (refusal is null && refuseExisting is not null && await refuseExisting.GetSessionAsync(session.SessionId, cancellationToken).ConfigureAwait(false) is not null)
                {
                    refusal = new SessionAlreadyExistsException(
                        $"Session '{session.SessionId}' of the archive exists in the store; RestoreMode.Fail restores only into a store without any of them. Nothing was written.");
                }
            }
            else
            {
                var message = item.Message!;
                messages++;
                refusal ??= Accept(validate, message.SessionId, v => v.Message(message with { Sequence = 0 }, message.SessionId, nameof(archive), stored: true));
            }
        }

        return refusal is null
            ? new BackupInfo(sessions, messages, header!.SourceStore, header.CreatedAt, header.Version)
            : throw refusal;
    }

    private static async Task<ImportReport> WriteAsync(ISessionStore store, Stream archive, RestoreMode mode, TransferCounter? counter, CancellationToken cancellationToken)
    {
        long sessions = 0, messages = 0, skipped = 0;
        var items = BackupArchive.ReadAsync(archive, header: null, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (items.ConfigureAwait(false))
        {
            var reader = new ArchiveSessionReader(items);
            while (await reader.NextSessionAsync().ConfigureAwait(false) is { Session: { } session } item)
            {
                if (mode == RestoreMode.Skip && await store.GetSessionAsync(session.SessionId, cancellationToken).ConfigureAwait(false) is not null)
                {
                    skipped++;
                    counter?.SessionDone(archive);
                    continue;
                }

                var written = 0L;
                await SessionReplacement.ReplaceAsync(
                    store,
                    session,
                    reader.MessageBatchesAsync(BatchSize, count =>
                    {
                        written += count;
                        counter?.MessagesDone(count, archive);
                    }),
                    cancellationToken).ConfigureAwait(false);

                // After the replacement, which starts the session's new life without cursors: a failure in between
                // leaves it restored with nothing marked read, and running the restore again marks them.
                await PortableTransfer.MarkAsync(store, session.SessionId, item.ReadCursors, cancellationToken).ConfigureAwait(false);
                sessions++;
                messages += written;
                counter?.SessionDone(archive);
            }
        }

        counter?.Finish(archive);
        return new ImportReport(sessions, messages) { SkippedSessions = skipped };
    }

    /// <summary>Null when the store takes the record, else the refusal to throw once the archive is known to be whole.</summary>
    private static ArgumentException? Accept(InputValidator? validate, string sessionId, Action<InputValidator> check)
    {
        if (validate is null)
        {
            return null;
        }

        try
        {
            check(validate);
            return null;
        }
        catch (ArgumentException ex)
        {
            return new ArgumentException($"The archive's session '{sessionId}' cannot be stored with this store's settings; nothing was written. {ex.Message}", ex);
        }
    }
}

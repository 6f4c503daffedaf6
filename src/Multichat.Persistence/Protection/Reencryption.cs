using Microsoft.Extensions.Logging;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Protection;

/// <summary>
/// <see cref="SessionPersistence.ReencryptAsync(IProgress{TransferProgress}?, CancellationToken)"/>: moves every stored value to the current key so the others can be
/// retired. Works below the protection layer, on values as stored. For each session: the record and its messages (pages,
/// oldest first) are checked; a session whose every value is already under the current key is left alone; any other is
/// read again, every value opened with the ring (which verifies it) and, unless already current, sealed under the
/// current key, spooled to a temporary file (<see cref="ReencryptionSpool"/>: constant memory at any history length),
/// and swapped in by one guarded replacement that expects the session as it was read.
/// </summary>
/// <remarks>
/// <para>Crash-safe because each session changes in one atomic replacement: a kill leaves every session either as it was
/// (still readable with the old keys) or wholly rewritten, and a second run skips what is done.</para>
/// <para>Never loses a write: the replacement commits only if the session's version, last sequence, message count and
/// creation time are still as read (checked inside the store's swap). Otherwise the session is read and rewritten again,
/// up to <see cref="MaxAttempts"/> times; a session that changed under every attempt is counted in
/// <see cref="ReencryptionReport.SessionsBusy"/> and left as it was, and the run goes on with the others (a busy session
/// is not an error: the report says the run is not complete).</para>
/// <para>A value no key of the ring opens stops the run with <see cref="DecryptionFailedException"/> naming the session,
/// the message and the key: never skipped, because retiring the key would then lose it. Sessions rewritten before stay
/// rewritten.</para>
/// </remarks>
internal static class Reencryption
{
    /// <summary>Attempts per session before it is reported busy.</summary>
    public const int MaxAttempts = 5;

    private const int PageSize = 1000;

    /// <param name="chain">The facade's composed pipeline.</param>
    /// <param name="logger">Where the summary goes.</param>
    /// <param name="counter">Progress: a session after each is done, messages as they are handed to the store (and a
    /// current session's count when it is skipped), so the totals are reached at the end.</param>
    /// <param name="beforeReplace">Tests: runs between a session's read and its replacement.</param>
    /// <param name="cancellationToken">Stops the run; the session being rewritten stays as it was.</param>
    /// <exception cref="InvalidOperationException">Encryption is not configured.</exception>
    public static async Task<ReencryptionReport> RunAsync(
        ISessionStore chain, ILogger logger, TransferCounter? counter, Func<string, CancellationToken, Task>? beforeReplace, CancellationToken cancellationToken)
    {
        var protection = SessionStorePipeline.ProtectionOf(chain);
        var ring = protection is null ? null : await protection.RingAsync(cancellationToken).ConfigureAwait(false);
        if (ring is null)
        {
            throw new InvalidOperationException(
                "ReencryptAsync moves stored values to the current encryption key, but encryption is not configured: set Encryption:CurrentKeyId "
                + "and Encryption:Keys (keeping every old key listed until the run completes), or register an IEncryptionKeyProvider.");
        }

        var run = new Run(SessionStorePipeline.StoredForm(chain), protection!, ring, counter, beforeReplace);
        await foreach (var sessionId in run.Store.ListSessionIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            await run.SessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            counter?.SessionDone(archive: null);
        }

        counter?.Finish(archive: null);
        ReencryptionLog.Completed(logger, run.Rewritten, run.Messages, ring.CurrentKeyId, run.Current);
        if (run.Busy > 0)
        {
            ReencryptionLog.SessionsBusy(logger, run.Busy, MaxAttempts);
        }

        return new ReencryptionReport(run.Rewritten, run.Current, run.Messages, run.Busy);
    }

    /// <summary>One run's context and counts.</summary>
    private sealed class Run(
        ISessionStore store, ProtectingSessionStore protection, EncryptionKeyRing ring, TransferCounter? counter, Func<string, CancellationToken, Task>? beforeReplace)
    {
        public ISessionStore Store { get; } = store;

        public long Rewritten { get; private set; }

        public long Current { get; private set; }

        public long Messages { get; private set; }

        public long Busy { get; private set; }

        public async Task SessionAsync(string sessionId, CancellationToken cancellationToken)
        {
            // Messages of this session already counted as progress: a retry counts only what it gets past them.
            long reported = 0;
            void Progress(long done)
            {
                if (counter is not null && done > reported)
                {
                    counter.MessagesDone((int)(done - reported), archive: null);
                    reported = done;
                }
            }

            for (var attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                var session = await Store.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
                if (session is null)
                {
                    return; // deleted while the run walked the ids: nothing left to rewrite
                }

                try
                {
                    if (await IsCurrentAsync(session, cancellationToken).ConfigureAwait(false))
                    {
                        Progress(session.MessageCount);
                        Current++;
                        return;
                    }

                    var spool = ReencryptionSpool.Create();
                    await using (spool.ConfigureAwait(false))
                    {
                        var resealed = protection.Rotate(session, ring);
                        await foreach (var page in PagesAsync(session, cancellationToken).ConfigureAwait(false))
                        {
                            foreach (var message in page)
                            {
                                await spool.WriteAsync(protection.Rotate(message, ring), cancellationToken).ConfigureAwait(false);
                            }
                        }

                        if (beforeReplace is not null)
                        {
                            await beforeReplace(sessionId, cancellationToken).ConfigureAwait(false);
                        }

                        long taken = 0;
                        await SessionReplacement.ReplaceAsync(
                            Store,
                            resealed,
                            spool.ReadAsync(PageSize, count => Progress(taken += count), cancellationToken),
                            ReplacementExpectation.Of(session),
                            cancellationToken).ConfigureAwait(false);
                        Rewritten++;
                        Messages += spool.Count;
                        return;
                    }
                }
                catch (ConcurrencyConflictException)
                {
                    // Changed between the read and the swap; the stored session was left as it is: read it again.
                }
                catch (SessionNotFoundException)
                {
                    // Deleted while its pages were read: the next read finds it gone (or a new session of that id).
                }
            }

            Busy++;
        }

        /// <summary>Whether every value of the session is under the current key; stops at the first that is not.</summary>
        private async Task<bool> IsCurrentAsync(ChatSession session, CancellationToken cancellationToken)
        {
            if (!IsCurrent(session.Title) || !AllCurrent(session.Metadata))
            {
                return false;
            }

            await foreach (var page in PagesAsync(session, cancellationToken).ConfigureAwait(false))
            {
                foreach (var message in page)
                {
                    if (!IsCurrent(message.Content) || !AllCurrent(message.Metadata))
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        /// <summary>The session's messages as read, oldest first, up to its last sequence as read (so appends that land
        /// meanwhile are not spooled: the guarded replacement sees them and the session is read again).</summary>
        private async IAsyncEnumerable<IReadOnlyList<ChatMessage>> PagesAsync(
            ChatSession session, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            MessageQuery? query = new() { BeforeSequence = session.LastSequence + 1, Limit = PageSize, Order = MessageOrder.OldestFirst };
            while (query is not null)
            {
                var page = await Store.GetMessagesAsync(session.SessionId, query, cancellationToken).ConfigureAwait(false);
                yield return page.Messages;
                query = page.Next;
            }
        }

        private bool IsCurrent(string? stored) => stored is null || ProtectingSessionStore.IsCurrent(stored, ring);

        private bool AllCurrent(IReadOnlyDictionary<string, string> metadata)
        {
            foreach (var value in metadata.Values)
            {
                if (!IsCurrent(value))
                {
                    return false;
                }
            }

            return true;
        }
    }
}

using System.Runtime.CompilerServices;
using Multichat.Persistence.Feed;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Backup;

/// <summary>
/// Streams a whole store out as <see cref="PortableItem"/>s and writes such a stream into a store, in constant
/// memory, through the <see cref="ISessionStore"/> primitives: one implementation serves every pair of stores.
/// </summary>
internal static class PortableTransfer
{
    private const int PageSize = 1000;

    public static async IAsyncEnumerable<PortableItem> ExportAsync(
        ISessionStore store, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var sessionId in store.ListSessionIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            var session = await store.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            if (session is null)
            {
                continue; // deleted while we walked the ids
            }

            yield return PortableItem.ForSession(session) with { ReadCursors = await ReadCursorsAsync(store, session, cancellationToken).ConfigureAwait(false) };

            // Bounded by the session's LastSequence as read, so the session and its messages form one consistent cut
            // even while appends go on.
            MessageQuery? query = new() { BeforeSequence = session.LastSequence + 1, Limit = PageSize };
            while (query is not null)
            {
                MessagePage page;
                try
                {
                    page = await store.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
                }
                catch (SessionNotFoundException)
                {
                    break;
                }

                foreach (var message in page.Messages)
                {
                    yield return PortableItem.ForMessage(message);
                }

                query = page.Next;
            }
        }
    }

    /// <summary>The session's marked cursors, at most its last sequence as read (so the cut stays consistent); null when
    /// none, or when the store keeps none.</summary>
    private static async Task<IReadOnlyDictionary<string, long>?> ReadCursorsAsync(ISessionStore store, ChatSession session, CancellationToken cancellationToken)
    {
        if (SessionStorePipeline.Unwrap(store) is not IReadCursorStore cursors)
        {
            return null;
        }

        IReadOnlyDictionary<string, long> marked;
        try
        {
            marked = await cursors.GetReadCursorsAsync(session.SessionId, cancellationToken).ConfigureAwait(false);
        }
        catch (SessionNotFoundException)
        {
            return null;
        }

        return marked.Count == 0 ? null : marked.ToDictionary(c => c.Key, c => Math.Min(c.Value, session.LastSequence), StringComparer.Ordinal);
    }

    /// <summary>Marks the cursors an archive or export carried for a session just written.</summary>
    public static async Task MarkAsync(ISessionStore store, string sessionId, IReadOnlyDictionary<string, long>? readCursors, CancellationToken cancellationToken)
    {
        if (readCursors is not { Count: > 0 } || SessionStorePipeline.Unwrap(store) is not IReadCursorStore cursors)
        {
            return;
        }

        foreach (var (participant, sequence) in readCursors)
        {
            await cursors.MarkReadAsync(sessionId, participant, sequence, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><see cref="ExportAsync(ISessionStore, CancellationToken)"/>, counted for a progress bar.</summary>
    public static async IAsyncEnumerable<PortableItem> ExportAsync(
        ISessionStore store, IProgress<TransferProgress> progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var statistics = await store.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
        var counter = new TransferCounter(progress, statistics.SessionCount, statistics.MessageCount);
        await foreach (var item in ExportAsync(store, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
            counter.Item(item, archive: null);
        }

        counter.Finish(archive: null);
    }

    public static async Task<ImportReport> ImportAsync(
        ISessionStore store, IAsyncEnumerable<PortableItem> items, bool replaceExisting, TransferCounter? counter, CancellationToken cancellationToken)
    {
        long sessions = 0, messages = 0;
        string? current = null;
        var pending = new List<ChatMessage>(PageSize);

        async Task FlushAsync()
        {
            if (pending.Count > 0)
            {
                await store.ImportMessagesAsync(current!, pending.ToArray(), cancellationToken).ConfigureAwait(false);
                messages += pending.Count;
                counter?.MessagesDone(pending.Count, archive: null);
                pending.Clear();
            }
        }

        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (item.Session is { } session)
            {
                await FlushAsync().ConfigureAwait(false);
                InputValidator.ReadCursors(item.ReadCursors, session, nameof(items));
                await store.ImportSessionAsync(session, replaceExisting, cancellationToken).ConfigureAwait(false);
                await MarkAsync(store, session.SessionId, item.ReadCursors, cancellationToken).ConfigureAwait(false);
                current = session.SessionId;
                sessions++;
                counter?.SessionDone(archive: null);
            }
            else if (item.Message is { } message)
            {
                if (!string.Equals(message.SessionId, current, StringComparison.Ordinal))
                {
                    throw new ArgumentException(
                        $"Message '{message.Id}' of session '{message.SessionId}' does not follow its session in the import stream; each session comes first, then its messages.",
                        nameof(items));
                }

                pending.Add(message);
                if (pending.Count == PageSize)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
            else
            {
                throw new ArgumentException("An import item carries neither a session nor a message.", nameof(items));
            }
        }

        await FlushAsync().ConfigureAwait(false);
        counter?.Finish(archive: null);
        return new ImportReport(sessions, messages);
    }
}

using System.Runtime.CompilerServices;

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

            yield return PortableItem.ForSession(session);

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
                await store.ImportSessionAsync(session, replaceExisting, cancellationToken).ConfigureAwait(false);
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

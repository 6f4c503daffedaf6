using Multichat.Persistence.Caching;

namespace Multichat.Persistence.Feed;

/// <summary>
/// Read state computed from the stored messages and the marked cursor, never from a counter: the participant's
/// effective cursor is the highest of its mark, its own latest message and the sequence before the oldest stored one
/// after the mark; what is stored after it is unread. The cost is one page read per <see cref="ScanPage"/> unread
/// messages (none of them is the participant's own: its own latest message ends the scan).
/// </summary>
internal sealed class ReadStates(ISessionStore chain, IReadCursorStore cursors, ISessionHeadSource heads)
{
    /// <summary>How many messages one read of the scan fetches.</summary>
    internal const int ScanPage = 500;

    public async Task<ReadState> GetAsync(string sessionId, string participant, CancellationToken cancellationToken)
    {
        var marks = await cursors.GetReadCursorsAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return await GetAsync(sessionId, participant, marks.GetValueOrDefault(participant), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The read state after the marked cursor <paramref name="marked"/>.</summary>
    public async Task<ReadState> GetAsync(string sessionId, string participant, long marked, CancellationToken cancellationToken)
    {
        // The last sequence before the scan: one assigned after it is not in the scan, and must not count as read. From
        // the store's head, never a cache's copy of the record (which MaxStaleness lets lag).
        var before = await heads.GetHeadAsync(sessionId, cancellationToken).ConfigureAwait(false)
            ?? throw SessionNotFoundException.ForSession(sessionId);

        // Newest first from the end down to the mark, stopping at the participant's own latest message.
        long unread = 0;
        long? oldestUnread = null;
        long? ownLatest = null;
        MessageQuery? query = new() { AfterSequence = marked, Order = MessageOrder.NewestFirst, Limit = ScanPage };
        while (query is not null && ownLatest is null)
        {
            var page = await chain.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
            foreach (var message in page.Messages)
            {
                if (string.Equals(message.Sender, participant, StringComparison.Ordinal))
                {
                    ownLatest = message.Sequence;
                    break;
                }

                unread++;
                oldestUnread = message.Sequence;
            }

            query = page.Next;
        }

        long lastRead;
        if (ownLatest is { } own)
        {
            lastRead = own;
        }
        else if (oldestUnread is { } oldest)
        {
            // Messages between the mark and the oldest stored one are gone (trimmed): they count as read.
            lastRead = oldest - 1;
        }
        else
        {
            // Nothing stored after the mark: whatever was assigned after it before the scan is gone.
            lastRead = before.LastSequence;
        }

        return new ReadState(sessionId, participant, Math.Max(lastRead, marked), unread, unread == 0 ? null : oldestUnread);
    }
}

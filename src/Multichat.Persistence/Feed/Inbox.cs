namespace Multichat.Persistence.Feed;

/// <summary>
/// A participant's inbox: across the sessions it takes part in, the messages addressed to it (its id as recipient, or
/// none: everyone) and sent by others, after its read cursor, oldest first. Each session is read in sequence order
/// from the later of its read cursor and what earlier pages delivered; the sessions' heads are merged by timestamp.
/// </summary>
/// <remarks>
/// The cost of a page is a listing of the participant's sessions plus, per session, its read state and reads of its
/// unread messages until a page's worth addressed to the participant is found (one read, unless most of them are
/// addressed to others): fine for the tens to thousands of sessions an agent takes part in.
/// </remarks>
internal sealed class Inbox(ISessionStore chain, ReadStates readStates)
{
    public async Task<InboxPage> GetAsync(string participant, InboxQuery query, CancellationToken cancellationToken)
    {
        var positions = InboxToken.Decode(query.ContinuationToken, nameof(query));
        var streams = new List<List<ChatMessage>>();
        var more = false;
        await foreach (var sessionId in SessionsOfAsync(participant, cancellationToken).ConfigureAwait(false))
        {
            ReadState state;
            try
            {
                state = await readStates.GetAsync(sessionId, participant, cancellationToken).ConfigureAwait(false);
            }
            catch (SessionNotFoundException)
            {
                // Deleted since it was listed.
                continue;
            }

            var after = Math.Max(state.LastReadSequence, positions.GetValueOrDefault(sessionId));
            var (addressed, hasMore) = await AddressedAsync(sessionId, participant, after, query.Limit, cancellationToken).ConfigureAwait(false);
            if (addressed.Count > 0)
            {
                streams.Add(addressed);
            }

            more |= hasMore;
        }

        var page = Merge(streams, query.Limit, ref more);
        if (!more)
        {
            return new InboxPage(page, null);
        }

        foreach (var message in page)
        {
            positions[message.SessionId] = message.Sequence;
        }

        return new InboxPage(page, InboxToken.Encode(positions));
    }

    /// <summary>
    /// The first <paramref name="limit"/> messages of the sessions' streams (each in sequence order), always taking the
    /// stream whose next message is oldest (then the lower session id): a session's messages stay in sequence order
    /// even when their timestamps are not, so what a page delivered is always a prefix of each stream.
    /// </summary>
    private static List<ChatMessage> Merge(List<List<ChatMessage>> streams, int limit, ref bool more)
    {
        var next = new int[streams.Count];
        var queue = new PriorityQueue<int, (DateTimeOffset Timestamp, string SessionId)>(
            Comparer<(DateTimeOffset Timestamp, string SessionId)>.Create(static (a, b) =>
            {
                var byTime = a.Timestamp.CompareTo(b.Timestamp);
                return byTime != 0 ? byTime : string.CompareOrdinal(a.SessionId, b.SessionId);
            }));
        for (var i = 0; i < streams.Count; i++)
        {
            queue.Enqueue(i, (streams[i][0].Timestamp, streams[i][0].SessionId));
        }

        var page = new List<ChatMessage>(Math.Min(limit, streams.Sum(s => s.Count)));
        while (queue.TryDequeue(out var stream, out _))
        {
            if (page.Count == limit)
            {
                more = true;
                break;
            }

            page.Add(streams[stream][next[stream]++]);
            if (next[stream] < streams[stream].Count)
            {
                queue.Enqueue(stream, (streams[stream][next[stream]].Timestamp, streams[stream][next[stream]].SessionId));
            }
        }

        return page;
    }

    private async IAsyncEnumerable<string> SessionsOfAsync(string participant, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        SessionQuery? query = new() { Participant = participant, Limit = SessionQuery.MaxLimit };
        while (query is not null)
        {
            var page = await chain.ListSessionsAsync(query, cancellationToken).ConfigureAwait(false);
            foreach (var session in page.Sessions)
            {
                yield return session.SessionId;
            }

            query = page.ContinuationToken is { } token ? query with { ContinuationToken = token } : null;
        }
    }

    /// <summary>Up to <paramref name="count"/> messages addressed to the participant after <paramref name="after"/>,
    /// oldest first, and whether more may follow.</summary>
    private async Task<(List<ChatMessage> Messages, bool More)> AddressedAsync(
        string sessionId, string participant, long after, int count, CancellationToken cancellationToken)
    {
        var addressed = new List<ChatMessage>();
        MessageQuery? query = new() { AfterSequence = after, Order = MessageOrder.OldestFirst, Limit = Math.Max(count, ReadStates.ScanPage) };
        while (query is not null && addressed.Count < count)
        {
            MessagePage page;
            try
            {
                page = await chain.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
            }
            catch (SessionNotFoundException)
            {
                break;
            }

            foreach (var message in page.Messages)
            {
                if (!string.Equals(message.Sender, participant, StringComparison.Ordinal)
                    && (message.Recipient is null || string.Equals(message.Recipient, participant, StringComparison.Ordinal)))
                {
                    addressed.Add(message);
                    if (addressed.Count == count)
                    {
                        return (addressed, true);
                    }
                }
            }

            query = page.Next;
        }

        return (addressed, false);
    }
}

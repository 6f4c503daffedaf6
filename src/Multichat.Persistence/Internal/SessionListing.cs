namespace Multichat.Persistence.Internal;

/// <summary>
/// Filters, orders and pages sessions held in memory: shared by the stores that keep (or cache) their session
/// records in process, so all of them page exactly alike.
/// </summary>
internal static class SessionListing
{
    public static bool Matches(ChatSession session, SessionQuery query, SessionCursor? after)
    {
        if (query.UpdatedAfter is { } updatedAfter && session.UpdatedAt <= updatedAfter)
        {
            return false;
        }

        if (query.UpdatedBefore is { } updatedBefore && session.UpdatedAt >= updatedBefore)
        {
            return false;
        }

        if (after is { } cursor && !cursor.Precedes(session))
        {
            return false;
        }

        if (query.Participant is { } participant)
        {
            foreach (var p in session.Participants)
            {
                if (string.Equals(p, participant, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        return true;
    }

    /// <summary>Takes the first page of the matching sessions without sorting them all: O(n log limit).</summary>
    public static SessionPage Page(IEnumerable<ChatSession> sessions, SessionQuery query)
    {
        var after = SessionCursor.Decode(query.ContinuationToken, nameof(query));
        var keep = query.Limit + 1;

        // A max-heap by listing order: its root is the session that sorts last, evicted when a better one comes.
        var heap = new PriorityQueue<ChatSession, ChatSession>(keep + 1, Comparer<ChatSession>.Create((x, y) => SessionCursor.CompareForListing(y, x)));
        foreach (var session in sessions)
        {
            if (!Matches(session, query, after))
            {
                continue;
            }

            heap.Enqueue(session, session);
            if (heap.Count > keep)
            {
                heap.Dequeue();
            }
        }

        var page = new List<ChatSession>(heap.Count);
        while (heap.Count > 0)
        {
            page.Add(heap.Dequeue());
        }

        page.Reverse();
        return ToPage(page, query.Limit);
    }

    /// <summary>Turns up to limit + 1 sessions, in listing order, into a page with a token when there was one more.</summary>
    public static SessionPage ToPage(List<ChatSession> ordered, int limit)
    {
        if (ordered.Count <= limit)
        {
            return new SessionPage(ordered, null);
        }

        ordered.RemoveRange(limit, ordered.Count - limit);
        return new SessionPage(ordered, SessionCursor.After(ordered[^1]).Encode());
    }
}

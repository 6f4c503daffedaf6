namespace Multichat.Persistence.Internal;

/// <summary>Turns what a store fetched for a <see cref="MessageQuery"/> into a <see cref="MessagePage"/>, alike for every store.</summary>
internal static class MessagePaging
{
    /// <summary>
    /// Stores fetch <c>Limit + 1</c> messages in query order; the extra one only tells that a next page exists.
    /// </summary>
    public static int FetchCount(MessageQuery query) => query.Limit + 1;

    public static MessagePage ToPage(MessageQuery query, List<ChatMessage> fetched)
    {
        if (fetched.Count <= query.Limit)
        {
            return new MessagePage(fetched, null);
        }

        fetched.RemoveRange(query.Limit, fetched.Count - query.Limit);
        var last = fetched[^1].Sequence;
        var next = query.Order == MessageOrder.OldestFirst
            ? query with { AfterSequence = last }
            : query with { BeforeSequence = last };
        return new MessagePage(fetched, next);
    }
}

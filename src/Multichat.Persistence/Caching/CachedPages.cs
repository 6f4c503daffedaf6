using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Caching;

/// <summary>
/// Answers a <see cref="MessageQuery"/> from a cached window exactly as a store would (same messages, same order, same
/// next-page cursor, through <see cref="MessagePaging"/>), or says it cannot: the answer might need a stored message
/// older than the window.
/// </summary>
internal static class CachedPages
{
    /// <summary>Whether a window of the latest <paramref name="window"/> messages at <paramref name="head"/> is likely
    /// to answer the query (the latest page, or what came after a recent sequence), so a miss should fill one.</summary>
    public static bool WorthFilling(MessageQuery query, SessionHead head, int window) =>
        query.Order == MessageOrder.NewestFirst
            ? query.BeforeSequence is null && MessagePaging.FetchCount(query) <= window
            : query.AfterSequence is { } after && after >= head.LastSequence - window;

    public static bool TryAnswer(CachedSession entry, MessageQuery query, out MessagePage page)
    {
        page = null!;
        if (entry.Window is not { } window)
        {
            return false;
        }

        var fetch = MessagePaging.FetchCount(query);
        var after = query.AfterSequence ?? long.MinValue;
        var before = query.BeforeSequence ?? long.MaxValue;

        // Every stored message from the window's oldest up is in the window; older ones exist unless it is complete.
        // So a range whose lower bound is at or above the window's start needs nothing older.
        var nothingOlderNeeded = entry.Complete || (window.Length > 0 && query.AfterSequence is { } a && a >= window[0].Sequence - 1);
        var fetched = new List<ChatMessage>(Math.Min(fetch, window.Length));
        if (query.Order == MessageOrder.NewestFirst)
        {
            for (var i = window.Length - 1; i >= 0 && fetched.Count < fetch; i--)
            {
                var sequence = window[i].Sequence;
                if (sequence <= after)
                {
                    break;
                }

                if (sequence < before)
                {
                    fetched.Add(window[i]);
                }
            }

            if (fetched.Count < fetch && !nothingOlderNeeded)
            {
                return false;
            }
        }
        else
        {
            if (!nothingOlderNeeded)
            {
                return false;
            }

            foreach (var message in window)
            {
                if (fetched.Count == fetch || message.Sequence >= before)
                {
                    break;
                }

                if (message.Sequence > after)
                {
                    fetched.Add(message);
                }
            }
        }

        page = MessagePaging.ToPage(query, fetched);
        return true;
    }
}

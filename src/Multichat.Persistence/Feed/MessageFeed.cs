using System.Runtime.CompilerServices;
using Multichat.Persistence.Caching;

namespace Multichat.Persistence.Feed;

/// <summary>
/// The change feed of one session: the stored messages after a cursor, then each new one as it is stored, read from
/// the store every time (so a slow consumer loses nothing and holds no buffer), woken by the store's hints.
/// </summary>
/// <remarks>
/// The watcher listens before its first read, so a message stored during catch-up wakes it; every read starts after
/// the last message delivered, so nothing is repeated or skipped across the switch from catch-up to live. A message
/// missing between the cursor and the first one read (trimmed) and a new epoch of the session (deleted and created
/// again, replaced) end the feed with <see cref="MessageFeedGapException"/>; a deleted session ends it with
/// <see cref="SessionNotFoundException"/>.
/// </remarks>
internal sealed class MessageFeed(ISessionStore chain, IMessageSignals signals, ISessionHeadSource? heads, TimeProvider clock)
{
    /// <summary>How many messages one read of the feed fetches.</summary>
    internal const int PageSize = 256;

    public async IAsyncEnumerable<ChatMessage> WatchAsync(
        string sessionId, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var signal = signals.Listen(sessionId);
        var epoch = heads is null ? (long?)null : await EpochAsync(sessionId, cancellationToken).ConfigureAwait(false);
        var cursor = afterSequence;
        while (true)
        {
            var page = await chain.GetMessagesAsync(
                sessionId, new MessageQuery { AfterSequence = cursor, Order = MessageOrder.OldestFirst, Limit = PageSize }, cancellationToken).ConfigureAwait(false);

            // Read after the page: the same epoch then proves the page came from the life the watch started on.
            if (epoch is { } started && await EpochAsync(sessionId, cancellationToken).ConfigureAwait(false) != started)
            {
                throw MessageFeedGapException.Replaced(sessionId, cursor);
            }

            if (page.Messages.Count > 0 && page.Messages[0].Sequence > cursor + 1)
            {
                throw MessageFeedGapException.Removed(sessionId, cursor, page.Messages[0].Sequence);
            }

            foreach (var message in page.Messages)
            {
                cursor = message.Sequence;
                yield return message;
            }

            if (!page.HasMore)
            {
                await signal.WaitAsync(signals.PollInterval, clock, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<long> EpochAsync(string sessionId, CancellationToken cancellationToken) =>
        (await heads!.GetHeadAsync(sessionId, cancellationToken).ConfigureAwait(false))?.Epoch
        ?? throw SessionNotFoundException.ForSession(sessionId);
}

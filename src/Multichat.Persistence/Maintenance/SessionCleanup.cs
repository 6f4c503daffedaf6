using Multichat.Persistence.Backup;

namespace Multichat.Persistence;

/// <summary>
/// Retention and limits over any store, through its listing and delete primitives: expired sessions first, then the
/// least recently active beyond the session limit, then trimming of over-long histories.
/// </summary>
internal static class SessionCleanup
{
    private const int PageSize = 500;

    public static async Task<CleanupReport> RunAsync(ISessionStore store, SessionPersistenceOptions options, TransferCounter? counter, CancellationToken cancellationToken)
    {
        var expired = 0;
        if (options.CleanupDays is { } days)
        {
            var cutoff = options.TimeProvider.GetUtcNow().AddDays(-days);
            expired = await DeleteAllAsync(store, new SessionQuery { UpdatedBefore = cutoff, Limit = PageSize }, skip: 0, counter, cancellationToken)
                .ConfigureAwait(false);
        }

        var excess = 0;
        if (options.MaxSessions is { } maxSessions)
        {
            excess = await DeleteAllAsync(store, new SessionQuery { Limit = PageSize }, skip: maxSessions, counter, cancellationToken).ConfigureAwait(false);
        }

        long trimmed = 0;
        if (options.MaxMessagesPerSession is { } maxMessages)
        {
            await foreach (var sessionId in store.ListSessionIdsAsync(cancellationToken).ConfigureAwait(false))
            {
                var removed = await store.TrimMessagesAsync(sessionId, maxMessages, cancellationToken).ConfigureAwait(false);
                trimmed += removed;
                if (removed > 0)
                {
                    counter?.MessagesDone((int)Math.Min(removed, int.MaxValue), archive: null);
                    counter?.SessionDone(archive: null);
                }
            }
        }

        counter?.Finish(archive: null);
        return new CleanupReport(expired, excess, trimmed);
    }

    /// <summary>Deletes every session the query lists after the first <paramref name="skip"/>, newest activity first.</summary>
    private static async Task<int> DeleteAllAsync(ISessionStore store, SessionQuery query, int skip, TransferCounter? counter, CancellationToken cancellationToken)
    {
        // Collect first, delete after: deleting while paging would shift the pages under the cursor.
        var doomed = new List<string>();
        var seen = 0;
        SessionQuery? next = query;
        while (next is not null)
        {
            var page = await store.ListSessionsAsync(next, cancellationToken).ConfigureAwait(false);
            foreach (var session in page.Sessions)
            {
                if (seen++ >= skip)
                {
                    doomed.Add(session.SessionId);
                }
            }

            next = page.ContinuationToken is null ? null : next with { ContinuationToken = page.ContinuationToken };
        }

        var deleted = 0;
        foreach (var sessionId in doomed)
        {
            if (await store.DeleteSessionAsync(sessionId, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
                counter?.SessionDone(archive: null);
            }
        }

        return deleted;
    }
}

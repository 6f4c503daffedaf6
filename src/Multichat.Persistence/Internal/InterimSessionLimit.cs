namespace Multichat.Persistence.Internal;

// INTERIM, removed in this same change: the statistics-scan limit check the facade made, moved behind the store
// while each store gets its exact, atomic check.
internal static class InterimSessionLimit
{
    public static async Task CheckAsync(ISessionStore store, int maxSessions, CancellationToken cancellationToken)
    {
        if (maxSessions > 0 && (await store.GetStatisticsAsync(cancellationToken).ConfigureAwait(false)).SessionCount >= maxSessions)
        {
            throw QuotaExceededException.ForSessions(maxSessions);
        }
    }
}

namespace Multichat.Persistence.Feed;

/// <summary>Adding and removing participants as a version-checked update of the session record.</summary>
internal static class Membership
{
    // Enough for any realistic burst of concurrent membership changes; beyond it the conflict is reported.
    private const int Attempts = 16;

    /// <param name="chain">The composed pipeline (validation checks the new participant list).</param>
    /// <param name="sessionId">The session.</param>
    /// <param name="expectedVersion">The version the caller read, or <see langword="null"/> to retry concurrent changes.</param>
    /// <param name="change">The new participant list, or <see langword="null"/> when nothing is to change.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public static async Task<ChatSession> ChangeAsync(
        ISessionStore chain, string sessionId, long? expectedVersion, Func<ChatSession, IReadOnlyList<string>?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var session = await chain.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false)
                ?? throw SessionNotFoundException.ForSession(sessionId);
            if (expectedVersion is { } expected && session.Version != expected)
            {
                throw ConcurrencyConflictException.ForSession(sessionId, expected, session.Version);
            }

            if (change(session) is not { } participants)
            {
                return session;
            }

            try
            {
                return await chain.UpdateSessionAsync(session with { Participants = participants }, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyConflictException) when (expectedVersion is null && attempt < Attempts)
            {
                // Someone else changed the session between the read and the update: apply the change to theirs.
            }
        }
    }
}

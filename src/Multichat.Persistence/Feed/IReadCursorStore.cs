namespace Multichat.Persistence.Feed;

/// <summary>
/// A store's part of read state: each participant's marked read cursor per session, kept with the session (deleted
/// with it, gone in its new life). Only what <see cref="SessionPersistence.MarkReadAsync"/> marked is stored; unread
/// counts are computed from the messages (<see cref="ReadStates"/>), never kept.
/// </summary>
internal interface IReadCursorStore
{
    /// <summary>
    /// Moves the participant's cursor to <paramref name="sequence"/> when that is higher than the one stored, in one
    /// atomic step (a monotonic max, so concurrent marks in any order end at the highest).
    /// </summary>
    /// <returns>The participant's cursor after the call.</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequence"/> is above the session's last sequence
    /// (checked in the same step); nothing changed.</exception>
    Task<long> MarkReadAsync(string sessionId, string participant, long sequence, CancellationToken cancellationToken);

    /// <summary>The session's marked cursors by participant (ordinal); a participant that never marked has none.</summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    Task<IReadOnlyDictionary<string, long>> GetReadCursorsAsync(string sessionId, CancellationToken cancellationToken);
}

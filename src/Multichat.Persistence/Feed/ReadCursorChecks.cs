namespace Multichat.Persistence.Feed;

/// <summary>The check every store's <see cref="IReadCursorStore.MarkReadAsync"/> makes in the same step as the mark.</summary>
internal static class ReadCursorChecks
{
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequence"/> was never assigned in the session.</exception>
    public static void EnsureAssigned(string sessionId, long sequence, long lastSequence)
    {
        if (sequence > lastSequence)
        {
            throw new ArgumentOutOfRangeException(
                nameof(sequence), sequence, $"Session '{sessionId}' has no sequence {sequence} yet (its last is {lastSequence}); a read cursor can only mark messages that were stored.");
        }
    }
}

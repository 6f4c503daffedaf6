namespace Multichat.Persistence;

/// <summary>What <see cref="SessionPersistence.ReencryptAsync(IProgress{TransferProgress}?, CancellationToken)"/> did.</summary>
/// <param name="SessionsRewritten">Sessions that held a value not under the current key (or not encrypted) and were
/// rewritten, each in one atomic replacement.</param>
/// <param name="SessionsAlreadyCurrent">Sessions whose every value was already encrypted under the current key; left as
/// they were.</param>
/// <param name="MessagesRewritten">Messages of the rewritten sessions (all of a rewritten session's messages are written
/// again, those already under the current key as they were).</param>
/// <param name="SessionsBusy">Sessions that changed under every attempt to rewrite them (appends, updates or trims kept
/// landing between the read and the swap) and were left as they were; run the operation again when they are quieter.</param>
public sealed record ReencryptionReport(long SessionsRewritten, long SessionsAlreadyCurrent, long MessagesRewritten, long SessionsBusy)
{
    /// <summary>
    /// Whether every session the run visited is now encrypted under the current key (no session was left busy). Only
    /// then may the other keys be dropped from the key ring, unless sessions were imported or restored from an older
    /// archive while it ran (those keep the envelopes they came with: run it again after such an import).
    /// </summary>
    public bool IsComplete => SessionsBusy == 0;
}

using Multichat.Persistence.Feed;

namespace Multichat.Persistence.Stores.Memory;

/// <summary>The Memory store's part of the change feed and read state: cursors beside the session's messages, and
/// hints straight from its own writes (every writer of a Memory store is in this process).</summary>
internal sealed partial class MemoryStore : IReadCursorStore, IMessageSignals
{
    // Hints cannot be lost in process; the poll is only a backstop.
    private readonly MessageSignalHub _signals = new(TimeSpan.FromSeconds(5));

    public TimeSpan PollInterval => _signals.PollInterval;

    public MessageSignal Listen(string sessionId) => _signals.Listen(sessionId);

    public Task<long> MarkReadAsync(string sessionId, string participant, long sequence, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = EnterLive(sessionId);
        try
        {
            ReadCursorChecks.EnsureAssigned(sessionId, sequence, state.LastSequence);
            var cursor = Math.Max(state.ReadCursors.GetValueOrDefault(participant), sequence);
            state.ReadCursors[participant] = cursor;
            return Task.FromResult(cursor);
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }
    }

    public Task<IReadOnlyDictionary<string, long>> GetReadCursorsAsync(string sessionId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var state = EnterLive(sessionId);
        try
        {
            return Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>(state.ReadCursors, StringComparer.Ordinal));
        }
        finally
        {
            Monitor.Exit(state.Gate);
        }
    }
}

using Multichat.Persistence.Feed;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// The Json store's part of the change feed and read state: read cursors in each session's <c>reads.json</c>, marked
/// under the session's lock like every write; hints straight from this instance's writes, and from a file watcher on
/// each watched session's folder for the writes of other instances and processes.
/// </summary>
internal sealed partial class JsonStore : IReadCursorStore, IMessageSignals
{
    // The backstop for a hint the file watcher missed or could not give (a network share, a watch that failed to start):
    // short enough that such a feed still feels live, long enough that idle feeds cost little (each poll takes the
    // session's lock, which a busy writer in another process then hands over).
    private static readonly TimeSpan FeedPoll = TimeSpan.FromMilliseconds(500);

    private readonly MessageSignalHub _signals;

    public TimeSpan PollInterval => _signals.PollInterval;

    public MessageSignal Listen(string sessionId) => _signals.Listen(sessionId);

    public Task<long> MarkReadAsync(string sessionId, string participant, long sequence, CancellationToken cancellationToken) =>
        RunAsync(sessionId, create: false, (Context: _context, Id: sessionId, Participant: participant, Sequence: sequence), static (state, a) =>
        {
            var document = state.Document ?? throw SessionNotFoundException.ForSession(a.Id);

            // Under the lock: no append, mark or new life lands between the check, the read and the write.
            var last = state.LastSequence;
            ReadCursorChecks.EnsureAssigned(a.Id, a.Sequence, last);
            return state.Reads.Mark(a.Context, document, last, a.Participant, a.Sequence);
        }, NotFound<long>, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> GetReadCursorsAsync(string sessionId, CancellationToken cancellationToken) =>
        RunAsync(sessionId, create: false, (Context: _context, Id: sessionId), static (state, a) =>
        {
            var document = state.Document ?? throw SessionNotFoundException.ForSession(a.Id);
            return (IReadOnlyDictionary<string, long>)state.Reads.Read(a.Context, document, state.LastSequence);
        }, NotFound<IReadOnlyDictionary<string, long>>, cancellationToken);

    /// <summary>The hub's listener for a session's first watcher: a file watcher on its folder.</summary>
    private FileSystemWatcher? WatchFolder(string sessionId) =>
        JsonFolderWatch.Start(
            Path.Combine(_context.SessionsFolder, JsonSessionKey.For(sessionId)), () => _signals.Notify(sessionId), _context.Logger, FeedPoll);
}

using Multichat.Persistence.Feed;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>
/// The Sqlite store's part of the change feed and read state: cursors in <c>read_cursors</c> (schema v6), hints
/// straight from this instance's own writes, and for every other connection's commits the <see cref="SqliteChangePoller"/>
/// (<c>PRAGMA data_version</c> every few milliseconds while a session is watched).
/// </summary>
internal sealed partial class SqliteStore : IReadCursorStore, IMessageSignals
{
    /// <summary>The feed's read without a hint: only a backstop, as both the writes here and the poller send hints.</summary>
    private static readonly TimeSpan FallbackPollInterval = TimeSpan.FromSeconds(1);

    private readonly SqliteChangePoller _poller;
    private readonly MessageSignalHub _signals;

    public TimeSpan PollInterval => _signals.PollInterval;

    /// <summary>The poller of other connections' commits, for tests.</summary>
    internal SqliteChangePoller ChangePoller => _poller;

    public MessageSignal Listen(string sessionId) => _signals.Listen(sessionId);

    /// <summary>One write transaction: the session's head and the upsert, so the check and the mark see the same state.</summary>
    public Task<long> MarkReadAsync(string sessionId, string participant, long sequence, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            SqliteWriteSteps.MarkRead,
            (sessionId, participant, sequence),
            static (lease, state) => SqliteReadCursors.Mark(lease, state.sessionId, state.participant, state.sequence),
            cancellationToken);

    public async Task<IReadOnlyDictionary<string, long>> GetReadCursorsAsync(string sessionId, CancellationToken cancellationToken) =>
        await _database.ReadAsync("GetReadCursors", sessionId, static (lease, sessionId) => SqliteReadCursors.Select(lease, sessionId), cancellationToken)
            .ConfigureAwait(false)
        ?? throw SessionNotFoundException.ForSession(sessionId);
}

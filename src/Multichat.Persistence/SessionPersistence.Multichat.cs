using System.Runtime.CompilerServices;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Diagnostics;
using Multichat.Persistence.Feed;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence;

/// <summary>What a session shared by many participants needs: the change feed, read cursors and unread counts, the
/// inbox, and membership.</summary>
public sealed partial class SessionPersistence
{
    // A store of the application's own gets hints from nowhere: its feed polls this often.
    private static readonly TimeSpan PollWithoutHints = TimeSpan.FromSeconds(1);

    private readonly MessageFeed _feed;
    private readonly ReadStates? _readStates;
    private readonly IReadCursorStore? _cursors;

    /// <summary>
    /// Watches a session: first the stored messages after <paramref name="afterSequence"/>, oldest first, then every new
    /// one as it is stored, by this or any other instance (another process for Json and Sqlite, another machine for
    /// Redis), until <paramref name="cancellationToken"/> is cancelled. Each message is read from the store, so a slow
    /// consumer loses nothing; none is skipped or repeated. docs/feed.md says how soon each store delivers.
    /// </summary>
    /// <param name="sessionId">The session to watch.</param>
    /// <param name="afterSequence">The last sequence the caller has already; 0 for the whole history. When messages
    /// after it were trimmed already, the watch reports that at once (<see cref="MessageFeedGapException"/>, whose
    /// <see cref="MessageFeedGapException.ResumeAfterSequence"/> is where the stored ones start).</param>
    /// <param name="cancellationToken">Ends the watch: the enumeration throws <see cref="OperationCanceledException"/>
    /// promptly and releases what it held.</param>
    /// <exception cref="SessionNotFoundException">No such session, or it was deleted while watched.</exception>
    /// <exception cref="MessageFeedGapException">Messages after the cursor were trimmed away before they were read, or
    /// the session began a new life; everything before was delivered.</exception>
    public IAsyncEnumerable<ChatMessage> WatchMessagesAsync(string sessionId, long afterSequence = 0, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        ArgumentOutOfRangeException.ThrowIfNegative(afterSequence);
        return _feed.WatchAsync(sessionId, afterSequence, cancellationToken);
    }

    /// <summary>
    /// Marks a session read by a participant up to <paramref name="sequence"/>. The cursor never moves backwards: a
    /// lower sequence than the one marked changes nothing. A participant's own message marks everything before it read
    /// without a call.
    /// </summary>
    /// <returns>The participant's read state after the mark.</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequence"/> is negative or above the session's
    /// last sequence; nothing changed.</exception>
    /// <exception cref="NotSupportedException">The store keeps no read cursors (a store of the application's own).</exception>
    public async Task<ReadState> MarkReadAsync(string sessionId, string participant, long sequence, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        InputValidator.Id(participant, nameof(participant));
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var cursors = Cursors();
        var scope = new OperationScope(_pipeline.Name, "mark_read");
        try
        {
            var marked = await cursors.MarkReadAsync(sessionId, participant, sequence, cancellationToken).ConfigureAwait(false);
            var state = await _readStates!.GetAsync(sessionId, participant, marked, cancellationToken).ConfigureAwait(false);
            scope.Complete();
            return state;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>A participant's read state in a session, computed from the stored messages now.</summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="NotSupportedException">The store keeps no read cursors (a store of the application's own).</exception>
    public Task<ReadState> GetReadStateAsync(string sessionId, string participant, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        InputValidator.Id(participant, nameof(participant));
        Cursors();
        return ObserveAsync("get_read_state", () => _readStates!.GetAsync(sessionId, participant, cancellationToken));
    }

    /// <summary>
    /// A participant's inbox: across the sessions it takes part in, the messages addressed to it (its id as
    /// <see cref="ChatMessage.Recipient"/>, or no recipient) and sent by others, after its read cursor in each, oldest
    /// first. What an agent reads when it wakes up; mark what it handled with <see cref="MarkReadAsync"/>.
    /// </summary>
    /// <param name="participant">The participant.</param>
    /// <param name="query">Page size and continuation; 50 a page from the start when omitted.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="ArgumentException">The participant id or the continuation token is invalid.</exception>
    /// <exception cref="NotSupportedException">The store keeps no read cursors (a store of the application's own).</exception>
    public Task<InboxPage> GetInboxAsync(string participant, InboxQuery? query = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(participant, nameof(participant));
        query ??= new InboxQuery();
        InputValidator.Query(query, nameof(query));
        Cursors();
        return ObserveAsync("get_inbox", () => new Inbox(_pipeline, _readStates!).GetAsync(participant, query, cancellationToken));
    }

    // The read-state calls are timed and counted like the store's own (Pipeline/TelemetrySessionStore): they are
    // composed here from several store calls, below the pipeline's view of one operation.
    private async Task<T> ObserveAsync<T>(string operation, Func<Task<T>> call)
    {
        var scope = new OperationScope(_pipeline.Name, operation);
        try
        {
            var result = await call().ConfigureAwait(false);
            scope.Complete();
            return result;
        }
        catch (Exception ex) when (scope.Fail(ex, _logger))
        {
            throw;
        }
    }

    /// <summary>
    /// Adds a participant to a session (at the end of <see cref="ChatSession.Participants"/>). Without
    /// <paramref name="expectedVersion"/> a concurrent change of the session is retried; with it, a session at another
    /// version is refused.
    /// </summary>
    /// <returns>The session after the change (as it was, when the participant was in it already).</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="ConcurrencyConflictException">The session is not at <paramref name="expectedVersion"/>.</exception>
    /// <exception cref="ArgumentException">The participant id is invalid, or the session would have more than
    /// <see cref="SessionPersistenceOptions.MaxParticipants"/>.</exception>
    public Task<ChatSession> AddParticipantAsync(string sessionId, string participant, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        InputValidator.Id(participant, nameof(participant));
        return Membership.ChangeAsync(
            _pipeline, sessionId, expectedVersion, s => s.Participants.Contains(participant, StringComparer.Ordinal) ? null : [.. s.Participants, participant], cancellationToken);
    }

    /// <summary>
    /// Removes a participant from a session; its read cursor stays (it may be added again). Without
    /// <paramref name="expectedVersion"/> a concurrent change of the session is retried; with it, a session at another
    /// version is refused.
    /// </summary>
    /// <returns>The session after the change (as it was, when the participant was not in it).</returns>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    /// <exception cref="ConcurrencyConflictException">The session is not at <paramref name="expectedVersion"/>.</exception>
    public Task<ChatSession> RemoveParticipantAsync(string sessionId, string participant, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        InputValidator.Id(sessionId, nameof(sessionId));
        InputValidator.Id(participant, nameof(participant));
        return Membership.ChangeAsync(
            _pipeline, sessionId, expectedVersion, s => s.Participants.Contains(participant, StringComparer.Ordinal) ? [.. s.Participants.Where(p => p != participant)] : null, cancellationToken);
    }

    /// <summary>The page with each session's read state for the query's participant.</summary>
    private async Task<SessionPage> WithReadStatesAsync(SessionPage page, string participant, CancellationToken cancellationToken)
    {
        Cursors();
        var states = new Dictionary<string, ReadState>(page.Sessions.Count, StringComparer.Ordinal);
        foreach (var session in page.Sessions)
        {
            try
            {
                states[session.SessionId] = await _readStates!.GetAsync(session.SessionId, participant, cancellationToken).ConfigureAwait(false);
            }
            catch (SessionNotFoundException)
            {
                // Deleted since it was listed: the page still shows it as it was, without a read state.
            }
        }

        return page with { ReadStates = states };
    }

    private static (MessageFeed Feed, ReadStates? ReadStates, IReadCursorStore? Cursors) FeedParts(ISessionStore pipeline, SessionPersistenceOptions options)
    {
        var store = SessionStorePipeline.Unwrap(pipeline);
        var signals = store as IMessageSignals ?? new MessageSignalHub(PollWithoutHints);
        var feed = new MessageFeed(pipeline, signals, store as ISessionHeadSource, options.TimeProvider);
        // Every store that keeps cursors reports heads too (the built-in ones); read states need both.
        var cursors = store as IReadCursorStore;
        return (feed, cursors is not null && store is ISessionHeadSource heads ? new ReadStates(pipeline, cursors, heads) : null, cursors);
    }

    private IReadCursorStore Cursors() => _readStates is not null ? _cursors! : throw new NotSupportedException(
        $"The store '{_pipeline.Name}' keeps no read cursors; read state needs one of the built-in stores (Memory, Json, Sqlite, Redis).");
}

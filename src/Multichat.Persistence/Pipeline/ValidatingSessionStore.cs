using Multichat.Persistence.Backup;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Pipeline;

/// <summary>
/// The outermost layer: checks every argument before anything below sees it (so bad input changes nothing, whichever
/// way in — the facade or <see cref="ISessionStore"/> from DI), and applies the configured limits
/// (<see cref="SessionPersistenceOptions.MaxSessions"/>, <see cref="SessionPersistenceOptions.MaxMessagesPerSession"/>)
/// by handing them to the store, which enforces them atomically.
/// </summary>
internal sealed class ValidatingSessionStore(ISessionStore inner, SessionPersistenceOptions options) : DelegatingSessionStore(inner)
{
    private readonly InputValidator _validate = new(options);
    private readonly SessionLimit _sessionLimit = new(options.MaxSessions ?? 0, options.SessionLimitPolicy);
    private readonly MessageLimit _messageLimit = new(options.MaxMessagesPerSession ?? 0, options.MessageLimitPolicy);

    public override Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default)
    {
        _validate.Session(session, nameof(session));
        return Inner.CreateSessionAsync(session, _sessionLimit.Tighter(limit), cancellationToken);
    }

    public override Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        InputValidator.Id(sessionId, nameof(sessionId));
        return Inner.GetSessionAsync(sessionId, cancellationToken);
    }

    public override Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        _validate.Session(session, nameof(session));
        return Inner.UpdateSessionAsync(session, cancellationToken);
    }

    public override Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        InputValidator.Id(sessionId, nameof(sessionId));
        return Inner.DeleteSessionAsync(sessionId, cancellationToken);
    }

    public override Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        InputValidator.Query(query, nameof(query));
        _ = SessionCursor.Decode(query.ContinuationToken, nameof(query));
        return Inner.ListSessionsAsync(query, cancellationToken);
    }

    public override Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        InputValidator.Id(sessionId, nameof(sessionId));
        var batch = _validate.Batch(sessionId, messages, nameof(messages));
        return options.RequireParticipantSender
            ? AppendFromParticipantsAsync(sessionId, batch, _messageLimit.Tighter(limit), cancellationToken)
            : Inner.AppendMessagesAsync(sessionId, batch, _messageLimit.Tighter(limit), cancellationToken);
    }

    /// <summary>The append under <see cref="SessionPersistenceOptions.RequireParticipantSender"/>: every sender is checked
    /// against the session's participants first (through the layers below, so the read cache can answer).</summary>
    private async Task<IReadOnlyList<ChatMessage>> AppendFromParticipantsAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken)
    {
        var session = await Inner.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false)
            ?? throw SessionNotFoundException.ForSession(sessionId);
        for (var i = 0; i < messages.Count; i++)
        {
            if (!session.Participants.Contains(messages[i].Sender, StringComparer.Ordinal))
            {
                throw new ArgumentException(
                    $"messages[{i}].Sender '{messages[i].Sender}' is not a participant of session '{sessionId}' (RequireParticipantSender is on); nothing was stored. " +
                    "Add it with AddParticipantAsync first.",
                    nameof(messages));
            }
        }

        return await Inner.AppendMessagesAsync(sessionId, messages, limit, cancellationToken).ConfigureAwait(false);
    }

    public override Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        InputValidator.Id(sessionId, nameof(sessionId));
        InputValidator.Query(query, nameof(query));
        return Inner.GetMessagesAsync(sessionId, query, cancellationToken);
    }

    public override Task<long> TrimMessagesAsync(string sessionId, long keepLatest, CancellationToken cancellationToken = default)
    {
        InputValidator.Id(sessionId, nameof(sessionId));
        ArgumentOutOfRangeException.ThrowIfNegative(keepLatest);
        return Inner.TrimMessagesAsync(sessionId, keepLatest, cancellationToken);
    }

    public override Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default)
    {
        ValidateImported(session);
        return Inner.ImportSessionAsync(session, replaceExisting, cancellationToken);
    }

    public override Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken)
    {
        ValidateImported(session);
        ArgumentNullException.ThrowIfNull(batches);
        return Inner is ISessionReplacer replacer
            ? replacer.ReplaceSessionAsync(session, Validated(session.SessionId, batches, cancellationToken), expected, cancellationToken)
            : SessionReplacement.NonAtomicAsync(this, session, batches, expected, cancellationToken);
    }

    public override Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        InputValidator.Id(sessionId, nameof(sessionId));
        ValidateImported(sessionId, messages);
        return Inner.ImportMessagesAsync(sessionId, messages, cancellationToken);
    }

    private void ValidateImported(ChatSession session) => _validate.ImportedSession(session, nameof(session));

    private void ValidateImported(string sessionId, IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            ArgumentNullException.ThrowIfNull(message, nameof(messages));

            // Imported messages keep their sequence; every other rule is the one for new messages.
            _validate.Message(message with { Sequence = 0 }, sessionId, $"{nameof(messages)}[{i}]", stored: true);
            if (message.Sequence < 1)
            {
                throw new ArgumentException($"Imported message '{message.Id}' has no sequence; exported messages keep theirs.", nameof(messages));
            }
        }
    }

    /// <summary>The batches of a replacement, each checked before the store sees it (a bad one fails the replacement,
    /// which then leaves the stored session as it was).</summary>
    private async IAsyncEnumerable<IReadOnlyList<ChatMessage>> Validated(
        string sessionId, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            ValidateImported(sessionId, batch);
            yield return batch;
        }
    }
}

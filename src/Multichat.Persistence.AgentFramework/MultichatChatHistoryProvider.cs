using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using StoredMessage = Multichat.Persistence.ChatMessage;

namespace Multichat.Persistence.AgentFramework;

/// <summary>
/// An Agent Framework <see cref="ChatHistoryProvider"/> that keeps each agent conversation in a multichat session of a
/// <see cref="SessionPersistence"/> store (Memory, Json, Sqlite or Redis): durable across restarts, gapless in order,
/// idempotent, and shareable by several agents.
/// </summary>
/// <remarks>
/// <para>
/// The agent session's state bag holds the multichat session's id (chosen on the first run by
/// <see cref="MultichatChatHistoryProviderOptions.SessionIdFactory"/>, or set with <see cref="SetSessionId"/>); the
/// provider itself holds no per-session state, so one instance serves every agent and session. The session is created
/// on first use, and the agent (its name, else its id) joins it as a participant.
/// </para>
/// <para>
/// At the start of a run the provider gives the agent the latest
/// <see cref="MultichatChatHistoryProviderOptions.MaxHistoryMessages"/> messages, oldest first. At the end it stores
/// the run's request and response messages in one atomic batch, an assistant message without an author named after
/// the agent (as the agent names its responses). Storing is idempotent: each message is stored under
/// its <see cref="AIChatMessage.MessageId"/>, and a message without one is given a deterministic id (from its JSON,
/// the turn and its place in the turn) that is also written to its <see cref="AIChatMessage.MessageId"/>. So the
/// framework re-sending messages — per-service-call persistence
/// (<c>ChatClientAgentOptions.RequirePerServiceCallChatHistoryPersistence</c>) stores after every model call of a
/// tool loop — or a retried store never duplicates history, while an equal message in a later turn is kept. A caller
/// that re-sends a whole turn as new objects in a new run should give its messages ids, as chat protocols do.
/// </para>
/// <para>Messages map as <see cref="AIChatMessageMapping"/> describes, losslessly.</para>
/// </remarks>
public sealed class MultichatChatHistoryProvider : ChatHistoryProvider
{
    private readonly SessionPersistence _persistence;
    private readonly MultichatChatHistoryProviderOptions _options;
    private readonly JsonSerializerOptions? _json;
    private readonly ProviderSessionState<HistoryState> _state;

    /// <summary>Creates a provider over <paramref name="persistence"/>.</summary>
    /// <param name="persistence">The store that keeps the history; the caller owns and disposes it.</param>
    /// <param name="options">Settings; defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="persistence"/> is <see langword="null"/>.</exception>
    public MultichatChatHistoryProvider(SessionPersistence persistence, MultichatChatHistoryProviderOptions? options = null)
        : base(options?.ProvideOutputMessageFilter, options?.StorageInputRequestMessageFilter, options?.StorageInputResponseMessageFilter)
    {
        ArgumentNullException.ThrowIfNull(persistence);
        _persistence = persistence;
        _options = options ?? new MultichatChatHistoryProviderOptions();
        _json = _options.JsonSerializerOptions;
        _state = new ProviderSessionState<HistoryState>(
            _ => new HistoryState(), _options.StateKey ?? nameof(MultichatChatHistoryProvider), HistoryStateJsonContext.Default.Options);
        StateKeys = [_state.StateKey];
    }

    /// <inheritdoc />
    public override IReadOnlyList<string> StateKeys { get; }

    /// <summary>The store this provider keeps history in.</summary>
    public SessionPersistence Persistence => _persistence;

    /// <summary>The id of the multichat session that holds <paramref name="session"/>'s history, or
    /// <see langword="null"/> before its first run.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is <see langword="null"/>.</exception>
    public string? GetSessionId(AgentSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _state.GetOrInitializeState(session).SessionId;
    }

    /// <summary>
    /// Points <paramref name="session"/> at the multichat session <paramref name="sessionId"/> (an existing one, say one
    /// that other agents or people write to); it is created on the next run when missing, and the agent joins it.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="sessionId"/> is not a valid id (1 to 256 characters, no control characters).</exception>
    public void SetSessionId(AgentSession session, string sessionId)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(sessionId);
        if (!StoredMessageIds.IsStorable(sessionId))
        {
            throw new ArgumentException("A session id has 1 to 256 characters and no control characters.", nameof(sessionId));
        }

        var state = _state.GetOrInitializeState(session);
        state.SessionId = sessionId;
        state.Joined = false;
        state.Turn = 0;
        _state.SaveState(session, state);
    }

    /// <summary>Reads the latest <paramref name="limit"/> messages of a multichat session, oldest first, outside an agent run.</summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    public async Task<IReadOnlyList<AIChatMessage>> GetMessagesAsync(string sessionId, int limit = 50, CancellationToken cancellationToken = default)
    {
        var latest = await _persistence.GetMessagesAsync(sessionId, limit, cancellationToken).ConfigureAwait(false);
        return ToAIChatMessages(latest, reverse: false);
    }

    /// <summary>Reads the latest <paramref name="limit"/> messages of an agent session's history, oldest first; none before its first run.</summary>
    public Task<IReadOnlyList<AIChatMessage>> GetMessagesAsync(AgentSession session, int limit = 50, CancellationToken cancellationToken = default) =>
        GetSessionId(session) is { } sessionId
            ? GetMessagesAsync(sessionId, limit, cancellationToken)
            : Task.FromResult<IReadOnlyList<AIChatMessage>>([]);

    /// <summary>Reads a multichat session's whole history, oldest first, a page at a time (memory does not grow with it).</summary>
    /// <exception cref="SessionNotFoundException">No such session.</exception>
    public async IAsyncEnumerable<AIChatMessage> ReadAllMessagesAsync(
        string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        MessageQuery? query = new() { Limit = 500 };
        while (query is not null)
        {
            var page = await _persistence.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
            foreach (var message in page.Messages)
            {
                yield return AIChatMessageMapping.ToAIChatMessage(message, _json);
            }

            query = page.Next;
        }
    }

    /// <summary>Lists multichat sessions (conversations), most recently active first, e.g. those of one agent
    /// (<see cref="SessionQuery.Participant"/> = its name).</summary>
    public Task<SessionPage> ListSessionsAsync(SessionQuery? query = null, CancellationToken cancellationToken = default) =>
        _persistence.ListSessionsAsync(query, cancellationToken);

    /// <inheritdoc />
    protected override async ValueTask<IEnumerable<AIChatMessage>> ProvideChatHistoryAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        var session = SessionOf(context.Session);
        var state = _state.GetOrInitializeState(session);
        var sessionId = await JoinAsync(state, context.Agent, session, cancellationToken).ConfigureAwait(false);
        var page = await _persistence.GetMessagesAsync(
            sessionId, new MessageQuery { Limit = _options.MaxHistoryMessages, Order = MessageOrder.NewestFirst }, cancellationToken).ConfigureAwait(false);
        state.Turn = page.Messages.Count == 0 ? 0 : page.Messages[0].Sequence;
        _state.SaveState(session, state);

        // The caller's new messages get their ids now, so a copy the framework makes during the run carries the id.
        AssignIds(context.RequestMessages.Where(m => m.GetAgentRequestMessageSourceType() != AgentRequestMessageSourceType.ChatHistory), state.Turn);
        return ToAIChatMessages(page.Messages, reverse: true);
    }

    /// <inheritdoc />
    protected override async ValueTask StoreChatHistoryAsync(InvokedContext context, CancellationToken cancellationToken = default)
    {
        var messages = context.RequestMessages.Concat(context.ResponseMessages ?? []).ToList();
        if (messages.Count == 0)
        {
            return;
        }

        var session = SessionOf(context.Session);
        var state = _state.GetOrInitializeState(session);
        var sessionId = await JoinAsync(state, context.Agent, session, cancellationToken).ConfigureAwait(false);
        var agent = ParticipantOf(context.Agent);
        foreach (var message in messages)
        {
            // The agent names its responses at the end of a run; with per-service-call persistence they are stored
            // before that, so name them here: every reader (another agent of a shared session, too) sees who spoke.
            if (message.Role == ChatRole.Assistant)
            {
                message.AuthorName ??= context.Agent.Name;
            }
        }

        AssignIds(messages, state.Turn);
        var stored = new StoredMessage[messages.Count];
        for (var i = 0; i < stored.Length; i++)
        {
            var message = messages[i];
            stored[i] = AIChatMessageMapping.ToStoredMessage(
                message, sessionId, StoredMessageIds.ForMessageId(message.MessageId!), message.Role == ChatRole.Assistant ? agent : null, _json);
        }

        // One atomic batch: a run's messages are stored together, contiguous, or not at all; ids stored before are skipped.
        await _persistence.AddMessagesAsync(sessionId, stored, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<string> JoinAsync(HistoryState state, AIAgent agent, AgentSession session, CancellationToken cancellationToken)
    {
        if (state.SessionId is not null && state.Joined)
        {
            return state.SessionId;
        }

        state.SessionId ??= _options.SessionIdFactory?.Invoke(session) ?? Guid.NewGuid().ToString("N");
        var participant = ParticipantOf(agent);
        try
        {
            await _persistence.CreateSessionAsync(state.SessionId, [participant], cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (SessionAlreadyExistsException)
        {
            // A shared session another agent (or an earlier process) created: join it.
            await _persistence.AddParticipantAsync(state.SessionId, participant, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        state.Joined = true;
        _state.SaveState(session, state);
        return state.SessionId;
    }

    // Equal messages of one turn (two "ok" tool results, say) are told apart by how many came before.
    private void AssignIds(IEnumerable<AIChatMessage> messages, long turn)
    {
        Dictionary<string, int>? seen = null;
        foreach (var message in messages)
        {
            if (message.MessageId is not null)
            {
                continue;
            }

            var json = AIChatMessageMapping.Serialize(message, _json);
            seen ??= new Dictionary<string, int>(StringComparer.Ordinal);
            seen[json] = seen.TryGetValue(json, out var before) ? before + 1 : 0;
            message.MessageId = StoredMessageIds.ForContent(json, turn, seen[json]);
        }
    }

    private List<AIChatMessage> ToAIChatMessages(IReadOnlyList<StoredMessage> messages, bool reverse)
    {
        var result = new List<AIChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            result.Add(AIChatMessageMapping.ToAIChatMessage(messages[reverse ? messages.Count - 1 - i : i], _json));
        }

        return result;
    }

    // ChatClientAgent always runs with a session (it creates one when the caller passes none); a provider without one
    // would have nowhere to keep which multichat session is the history.
    private static AgentSession SessionOf(AgentSession? session) => session ?? throw new InvalidOperationException(
        $"{nameof(MultichatChatHistoryProvider)} needs an agent session: run the agent with one (agent.CreateSessionAsync()).");

    private static string ParticipantOf(AIAgent agent) =>
        StoredMessageIds.IsStorable(agent.Name) ? agent.Name! : agent.Id;
}

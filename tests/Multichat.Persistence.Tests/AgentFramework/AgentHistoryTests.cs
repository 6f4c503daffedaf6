using System.Text.Json;
using FluentAssertions;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.AgentFramework;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>
/// The Agent Framework adapter against one store: real <see cref="ChatClientAgent"/>s over a deterministic local
/// model, with the history in a real store; a store's subclass says only how to point options at fresh storage.
/// </summary>
public abstract partial class AgentHistoryTests : IAsyncLifetime
{
    private readonly List<SessionPersistence> _opened = [];

    protected AgentHistoryTests()
    {
        StorageKey = "af" + Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>Identifies this test's private storage (a folder name, a key prefix …).</summary>
    protected string StorageKey { get; }

    /// <summary>Whether a store opened again over the same storage sees what an earlier one wrote (false for Memory).</summary>
    protected virtual bool SurvivesReopen => true;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };

    /// <summary>Points <paramref name="options"/> at the storage named <paramref name="storageKey"/>.</summary>
    protected abstract void ConfigureStorage(SessionPersistenceOptions options, string storageKey);

    /// <summary>Turns on optional layers (encryption, compression, cache); none by default.</summary>
    protected virtual void ConfigureLayers(SessionPersistenceOptions options)
    {
    }

    /// <summary>Removes the storage named <paramref name="storageKey"/> after the test.</summary>
    protected virtual ValueTask DeleteStorageAsync(string storageKey) => ValueTask.CompletedTask;

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        await DeleteStorageAsync(StorageKey);
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens a store over this test's storage (another instance each call, as a restarted process would).</summary>
    protected SessionPersistence Open()
    {
        var options = new SessionPersistenceOptions { TimeProvider = Clock };
        ConfigureStorage(options, StorageKey);
        ConfigureLayers(options);
        var persistence = SessionPersistence.Create(options);
        _opened.Add(persistence);
        return persistence;
    }

    /// <summary>Every stored message of the agent session's history, straight from the store.</summary>
    protected static async Task<IReadOnlyList<ChatMessage>> StoredAsync(SessionPersistence persistence, string sessionId) =>
        (await persistence.GetMessagesAsync(sessionId, new MessageQuery { Limit = MessageQuery.MaxLimit })).Messages;

    protected static ChatClientAgent Agent(
        IChatClient model, MultichatChatHistoryProvider history, string name, bool perServiceCall = false, IList<AITool>? tools = null) =>
        new(model, new ChatClientAgentOptions
        {
            Name = name,
            ChatHistoryProvider = history,
            ChatOptions = new ChatOptions { Tools = tools },
#pragma warning disable MAAI001 // Experimental in Agent Framework 1.28: the mode the issue asks us to support.
            RequirePerServiceCallChatHistoryPersistence = perServiceCall,
#pragma warning restore MAAI001
        });

    [Fact]
    public virtual async Task Run_SeveralTurnsThenReopen_NextTurnSeesWholeHistoryInOrder()
    {
        if (!SurvivesReopen)
        {
            Assert.Skip("This store keeps nothing past its instance.");
        }

        JsonElement savedSession;
        string sessionId;
        {
            var persistence = Open();
            var history = new MultichatChatHistoryProvider(persistence);
            var agent = Agent(new ScriptedChatClient("ada"), history, "ada");
            var session = await agent.CreateSessionAsync(cancellationToken: Ct);
            foreach (var text in new[] { "one", "two", "three" })
            {
                await agent.RunAsync(text, session, cancellationToken: Ct);
            }

            sessionId = history.GetSessionId(session)!;
            savedSession = await agent.SerializeSessionAsync(session, cancellationToken: Ct);
            await persistence.DisposeAsync();
        }

        var reopened = Open();
        var model = new ScriptedChatClient("ada");
        var restartedAgent = Agent(model, new MultichatChatHistoryProvider(reopened), "ada");
        var restored = await restartedAgent.DeserializeSessionAsync(savedSession, cancellationToken: Ct);
        var answer = await restartedAgent.RunAsync("four", restored, cancellationToken: Ct);

        model.Calls.Should().ContainSingle();
        model.Calls[0].Select(m => m.Text).Should().Equal(
            "one", "ada heard: one (1 messages)", "two", "ada heard: two (3 messages)", "three", "ada heard: three (5 messages)", "four");
        answer.Text.Should().Be("ada heard: four (7 messages)");
        (await StoredAsync(reopened, sessionId)).Select(m => m.Sequence).Should().Equal(1, 2, 3, 4, 5, 6, 7, 8);
    }

    [Fact]
    public virtual async Task Run_TurnStored_RequestAndResponseKeepOrderSenderAndSession()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var agent = Agent(new ScriptedChatClient("ada"), history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);

        await agent.RunAsync("hello", session, cancellationToken: Ct);

        var sessionId = history.GetSessionId(session);
        sessionId.Should().NotBeNull();
        var stored = await StoredAsync(persistence, sessionId!);
        stored.Select(m => (m.Sequence, m.Sender)).Should().Equal((1, "user"), (2, "ada"));
        (await persistence.GetSessionAsync(sessionId!, cancellationToken: Ct))!.Participants.Should().Equal("ada");
    }

    [Fact]
    public virtual async Task Store_SameTurnResent_StoresNothingNew()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var agent = Agent(new ScriptedChatClient("ada"), history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);
        var request = new AIChatMessage(ChatRole.User, "hello");
        var response = await agent.RunAsync(request, session, cancellationToken: Ct);
        var sessionId = history.GetSessionId(session)!;

        // The framework re-sending the turn: the same messages, and copies of them that never carried an id.
#pragma warning disable MAAI001 // Experimental in Agent Framework 1.28: what the agent itself calls at the end of a run.
        await history.InvokedAsync(new ChatHistoryProvider.InvokedContext(agent, session, [request], response.Messages), cancellationToken: Ct);
        await history.InvokedAsync(new ChatHistoryProvider.InvokedContext(
            agent, session, [new AIChatMessage(ChatRole.User, "hello")], response.Messages.Select(Copy).ToList()), cancellationToken: Ct);
#pragma warning restore MAAI001

        (await StoredAsync(persistence, sessionId)).Should().HaveCount(2);
    }

    [Fact]
    public virtual async Task Run_MessageWithIdSentAgainInALaterRun_IsStoredOnce()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var agent = Agent(new ScriptedChatClient("ada"), history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);

        await agent.RunAsync(new AIChatMessage(ChatRole.User, "hello") { MessageId = "client-1" }, session, cancellationToken: Ct);
        await agent.RunAsync(new AIChatMessage(ChatRole.User, "hello") { MessageId = "client-1" }, session, cancellationToken: Ct);

        var stored = await StoredAsync(persistence, history.GetSessionId(session)!);
        stored.Count(m => m.Id == "client-1").Should().Be(1);
        stored.Select(m => m.Sender).Should().Equal("user", "ada", "ada");
    }

    [Fact]
    public virtual async Task Run_EqualMessageInALaterTurn_IsKept()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var agent = Agent(new ScriptedChatClient("ada"), history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);

        await agent.RunAsync("yes", session, cancellationToken: Ct);
        await agent.RunAsync("yes", session, cancellationToken: Ct);

        var stored = await StoredAsync(persistence, history.GetSessionId(session)!);
        stored.Count(m => m.Sender == "user").Should().Be(2);
        stored.Select(m => m.Id).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public virtual async Task Run_PerServiceCallPersistenceWithATool_StoresEachCallAndResultOnceInOrder()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var model = new ScriptedChatClient("ada");
        var weather = AIFunctionFactory.Create((string city) => $"sunny in {city}", ScriptedChatClient.WeatherTool);
        var agent = Agent(model, history, "ada", perServiceCall: true, tools: [weather]);
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);

        var answer = await agent.RunAsync("what is the weather?", session, cancellationToken: Ct);
        await agent.RunAsync("thanks", session, cancellationToken: Ct);

        answer.Text.Should().Be("ada: the weather is sunny in Oslo");
        model.Calls.Should().HaveCount(3, "a tool call, its answer, then the second turn");
        var raw = await StoredAsync(persistence, history.GetSessionId(session)!);
        raw.Select(m => m.Sender).Should().Equal("user", "ada", "tool", "ada", "user", "ada");
        var stored = raw.Select(m => AIChatMessageMapping.ToAIChatMessage(m)).ToList();
        stored.Select(Describe).Should().Equal(
            "user: what is the weather?",
            "assistant: call get_weather",
            "tool: result sunny in Oslo",
            "assistant: ada: the weather is sunny in Oslo",
            "user: thanks",
            "assistant: ada heard: thanks (5 messages)");
    }

    [Fact]
    public virtual async Task Run_TwoAgentsInOneSharedSession_EachSeesTheOthersMessages()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var adaModel = new ScriptedChatClient("ada");
        var ada = Agent(adaModel, history, "ada");
        var bob = Agent(new ScriptedChatClient("bob"), history, "bob");
        var adaSession = await ada.CreateSessionAsync(cancellationToken: Ct);
        var bobSession = await bob.CreateSessionAsync(cancellationToken: Ct);
        history.SetSessionId(adaSession, "room");
        history.SetSessionId(bobSession, "room");

        await ada.RunAsync("hi bob", adaSession, cancellationToken: Ct);
        await bob.RunAsync("hi ada", bobSession, cancellationToken: Ct);
        await ada.RunAsync("how are you?", adaSession, cancellationToken: Ct);

        adaModel.Calls[^1].Select(m => m.Text).Should().Equal(
            "hi bob", "ada heard: hi bob (1 messages)", "hi ada", "bob heard: hi ada (3 messages)", "how are you?");
        var room = await persistence.GetSessionAsync("room", cancellationToken: Ct);
        room!.Participants.Should().Equal("ada", "bob");
        (await history.ListSessionsAsync(new SessionQuery { Participant = "bob" }, cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().Equal("room");
    }

    [Fact]
    public virtual async Task Run_WindowSmallerThanHistory_GivesTheLatestMessagesOldestFirst()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence, new MultichatChatHistoryProviderOptions { MaxHistoryMessages = 3 });
        var model = new ScriptedChatClient("ada");
        var agent = Agent(model, history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);

        foreach (var text in new[] { "one", "two", "three" })
        {
            await agent.RunAsync(text, session, cancellationToken: Ct);
        }

        model.Calls[^1].Select(m => m.Text).Should().Equal("ada heard: one (1 messages)", "two", "ada heard: two (3 messages)", "three");
    }

    [Fact]
    public virtual async Task ReadAllMessages_OutsideARun_GivesTheWholeHistory()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence, new MultichatChatHistoryProviderOptions { MaxHistoryMessages = 1 });
        var agent = Agent(new ScriptedChatClient("ada"), history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);
        await agent.RunAsync("one", session, cancellationToken: Ct);
        await agent.RunAsync("two", session, cancellationToken: Ct);

        var all = new List<AIChatMessage>();
        await foreach (var message in history.ReadAllMessagesAsync(history.GetSessionId(session)!, cancellationToken: Ct))
        {
            all.Add(message);
        }

        all.Select(m => m.Text).Should().Equal("one", "ada heard: one (1 messages)", "two", "ada heard: two (2 messages)");
        (await history.GetMessagesAsync(session, limit: 2, cancellationToken: Ct)).Select(m => m.Text).Should().Equal("two", "ada heard: two (2 messages)");
    }

    [Fact]
    public virtual async Task Run_MessageAPersonPostedToTheSession_ReachesTheAgentAsAUserMessage()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var model = new ScriptedChatClient("ada");
        var agent = Agent(model, history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);
        history.SetSessionId(session, "support");
        await persistence.CreateSessionAsync("support", ["carol"], cancellationToken: Ct);
        await persistence.AddMessageAsync(new ChatMessage { Id = "m1", SessionId = "support", Sender = "carol", Recipient = "ada", Content = "my order is late" }, cancellationToken: Ct);

        await agent.RunAsync("please look into it", session, cancellationToken: Ct);

        var seen = model.Calls[0][0];
        (seen.Role, seen.AuthorName, seen.Text, seen.MessageId).Should().Be((ChatRole.User, "carol", "my order is late", "m1"));
        seen.AdditionalProperties![AIChatMessageMapping.RecipientProperty].Should().Be("ada");
    }

    private static AIChatMessage Copy(AIChatMessage message) =>
        JsonSerializer.Deserialize<AIChatMessage>(JsonSerializer.Serialize(message, AIJsonUtilities.DefaultOptions), AIJsonUtilities.DefaultOptions)!;

    private static string Describe(AIChatMessage message) => message.Contents.Single() switch
    {
        FunctionCallContent call => $"{message.Role}: call {call.Name}",
        FunctionResultContent result => $"{message.Role}: result {result.Result}",
        _ => $"{message.Role}: {message.Text}",
    };
}

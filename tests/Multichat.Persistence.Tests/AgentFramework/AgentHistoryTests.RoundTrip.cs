using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Multichat.Persistence.AgentFramework;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>Every <see cref="AIContent"/> kind, and every field of a chat message, survives store → read on this store.</summary>
public abstract partial class AgentHistoryTests
{
    /// <summary>The messages of the round trip: one per content kind, with every message-level field set somewhere.</summary>
    public static TheoryData<string> ContentKinds() =>
    [
        "text", "data", "uri", "function-call", "function-result", "reasoning", "usage", "error", "hosted-file", "custom", "custom-role",
    ];

    [Theory]
    [MemberData(nameof(ContentKinds))]
    public virtual async Task RoundTrip_EveryContentKind_ReadsBackByteForByte(string kind)
    {
        var json = CitationContent.Options();
        var original = Sample(kind);
        var expected = JsonSerializer.Serialize(original, json);
        var writer = Open();
        await writer.CreateSessionAsync("trip", ["ada"], cancellationToken: Ct);
        await writer.AddMessageAsync(AIChatMessageMapping.ToStoredMessage(original, "trip", original.MessageId!, serializerOptions: json), cancellationToken: Ct);

        var reader = SurvivesReopen ? Open() : writer;
        var history = new MultichatChatHistoryProvider(reader, new MultichatChatHistoryProviderOptions { JsonSerializerOptions = json });
        var read = (await history.GetMessagesAsync("trip", cancellationToken: Ct)).Single();

        JsonSerializer.Serialize(read, json).Should().Be(expected);
    }

    [Fact]
    public virtual async Task RoundTrip_ThroughARun_MessageFieldsAndSenderSurvive()
    {
        var persistence = Open();
        var history = new MultichatChatHistoryProvider(persistence);
        var agent = Agent(new ScriptedChatClient("ada"), history, "ada");
        var session = await agent.CreateSessionAsync(cancellationToken: Ct);
        var request = Sample("text");

        await agent.RunAsync(request, session, cancellationToken: Ct);

        var stored = (await StoredAsync(persistence, history.GetSessionId(session)!))[0];
        (stored.Id, stored.Sender, stored.Recipient, stored.Timestamp).Should().Be((request.MessageId!, "rev", (string?)"ada", request.CreatedAt!.Value));
        var read = (await history.GetMessagesAsync(session, cancellationToken: Ct))[0];
        JsonSerializer.Serialize(read, AIJsonUtilities.DefaultOptions).Should().Be(JsonSerializer.Serialize(request, AIJsonUtilities.DefaultOptions));
    }

    private static readonly string[] Tags = ["a", "b"];

    private static AIChatMessage Sample(string kind)
    {
        AIContent content = kind switch
        {
            "text" => new TextContent("plain text") { AdditionalProperties = new() { ["lang"] = "en" } },
            "data" => new DataContent(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), "application/octet-stream") { Name = "bytes.bin" },
            "uri" => new UriContent(new Uri("https://example.com/cat.png"), "image/png"),
            "function-call" => new FunctionCallContent("call-1", "lookup", new Dictionary<string, object?>
            {
                ["city"] = "Oslo",
                ["days"] = 3,
                ["options"] = new Dictionary<string, object?> { ["metric"] = true, ["tags"] = Tags },
            }),
            "function-result" => new FunctionResultContent("call-1", new Dictionary<string, object?> { ["temperature"] = 21.5, ["sky"] = "clear" }),
            "reasoning" => new TextReasoningContent("first I think") { ProtectedData = "opaque-signature" },
            "usage" => new UsageContent(new UsageDetails
            {
                InputTokenCount = 10,
                OutputTokenCount = 5,
                TotalTokenCount = 15,
                AdditionalCounts = new() { ["cached"] = 2 },
            }),
            "error" => new ErrorContent("rate limited") { ErrorCode = "429", Details = "retry later" },
            "hosted-file" => new HostedFileContent("file-123"),
            "custom" => new CitationContent { Source = "https://example.com/paper", Quote = "multi-agent" },
            "custom-role" => new TextContent("a custom role"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };

        return new AIChatMessage(kind == "custom-role" ? new ChatRole("critic") : ChatRole.User, [content])
        {
            AuthorName = "rev",
            MessageId = "msg-" + kind,
            CreatedAt = new DateTimeOffset(2026, 3, 4, 5, 6, 7, 890, TimeSpan.FromHours(2)).AddTicks(1234),
            AdditionalProperties = new()
            {
                [AIChatMessageMapping.RecipientProperty] = "ada",
                ["trace"] = "t-1",
                ["attempt"] = 2,
            },
        };
    }
}

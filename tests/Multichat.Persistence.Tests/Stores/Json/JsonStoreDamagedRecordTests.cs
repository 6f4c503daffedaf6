using System.Text.Json.Nodes;
using FluentAssertions;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>Issue #9 item 1: a hand-damaged session.json is that session's problem alone.</summary>
public sealed class JsonStoreDamagedRecordTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    /// <summary>Every field of session.json, nulled, given a wrong type, or removed; and whole-file damage.</summary>
    public static TheoryData<string, string> Damages()
    {
        var data = new TheoryData<string, string>();
        string[] fields = ["sessionId", "participants", "createdAt", "updatedAt", "version", "lastSequence", "firstSequence", "gaps", "incarnation"];
        foreach (var field in fields)
        {
            data.Add(field, "null");
            data.Add(field, "wrong-type");
            data.Add(field, "missing");
        }

        data.Add("title", "wrong-type");
        data.Add("metadata", "wrong-type");
        data.Add("metadata", "null-value");
        data.Add("epoch", "wrong-type");
        data.Add("participants", "null-element");
        data.Add("lastSequence", "negative");
        data.Add("sessionId", "empty");
        data.Add("(file)", "not-json");
        data.Add("(file)", "empty");
        data.Add("(file)", "json-null");
        data.Add("(file)", "json-array");
        return data;
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task DamagedSessionJson_ThatSessionIsCorruptedAndEveryOtherKeepsWorking(string field, string damage)
    {
        await SeedAsync();
        var path = Path.Combine(_folder.FolderOf("s-1"), "session.json");
        await File.WriteAllTextAsync(path, Damage(await File.ReadAllTextAsync(path, Ct), field, damage), Ct);

        await using var store = SessionPersistence.Create(_folder.Options());

        await FluentActions.Awaiting(() => store.GetSessionAsync("s-1", Ct)).Should().ThrowAsync<StoreCorruptedException>();
        await FluentActions.Awaiting(() => store.AddMessageAsync(Message("s-1", "m-9"), Ct)).Should().ThrowAsync<StoreCorruptedException>();
        await FluentActions.Awaiting(() => store.GetMessagesAsync("s-1", 10, Ct)).Should().ThrowAsync<StoreCorruptedException>();
        await AssertOthersWorkAsync(store, expectedSessions: ["s-2"]);
        (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Degraded);
    }

    [Theory]
    [InlineData("title", "null")]
    [InlineData("title", "missing")]
    [InlineData("metadata", "null")]
    [InlineData("metadata", "missing")]
    [InlineData("epoch", "missing")]
    public async Task OptionalFieldNullOrMissing_IsAValidRecord(string field, string damage)
    {
        await SeedAsync();
        var path = Path.Combine(_folder.FolderOf("s-1"), "session.json");
        await File.WriteAllTextAsync(path, Damage(await File.ReadAllTextAsync(path, Ct), field, damage), Ct);

        await using var store = SessionPersistence.Create(_folder.Options());

        (await store.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(3);
        await AssertOthersWorkAsync(store, expectedSessions: ["s-1", "s-2"]);
        (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Healthy);
    }

    [Fact]
    public async Task RecordWithoutEpoch_AWriteOfAnEarlierBuild_HasEpochZeroUntilItsNextLife()
    {
        await SeedAsync();
        var path = Path.Combine(_folder.FolderOf("s-1"), "session.json");
        await File.WriteAllTextAsync(path, Damage(await File.ReadAllTextAsync(path, Ct), "epoch", "missing"), Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        var heads = (ISessionHeadSource)SessionStorePipeline.Unwrap(store.Store);
        (await heads.GetHeadAsync("s-1", Ct)).Should().Be(new SessionHead(Epoch: 0, Version: 1, LastSequence: 3, MessageCount: 3));

        // A rewrite of the record within its life keeps the epoch; a new life gets one.
        var session = (await store.GetSessionAsync("s-1", Ct))!;
        await store.UpdateSessionAsync(session with { Title = "renamed" }, Ct);
        (await heads.GetHeadAsync("s-1", Ct))!.Value.Epoch.Should().Be(0);
        JsonNode.Parse(await File.ReadAllTextAsync(path, Ct))!["epoch"]!.GetValue<long>().Should().Be(0);
        await store.DeleteSessionAsync("s-1", Ct);
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        (await heads.GetHeadAsync("s-1", Ct))!.Value.Epoch.Should().NotBe(0);
    }

    private static string Damage(string text, string field, string damage)
    {
        switch (damage)
        {
            case "not-json": return "{\"sessionId\": \"s-1\", \"participants\": [";
            case "empty": return "";
            case "json-null": return "null";
            case "json-array": return "[1, 2]";
        }

        var node = JsonNode.Parse(text)!.AsObject();
        var original = node[field];
        switch (damage)
        {
            case "null": node[field] = null; break;
            case "missing": node.Remove(field); break;
            case "empty": node[field] = ""; break;
            case "negative": node[field] = -5; break;
            case "null-element": node[field] = new JsonArray("a", null); break;
            case "null-value": node[field] = new JsonObject { ["k"] = null }; break;
            case "wrong-type":
                node[field] = original switch
                {
                    JsonValue value when value.TryGetValue<string>(out _) => field is "createdAt" or "updatedAt" ? "not a date" : 42,
                    JsonArray => "not an array",
                    JsonObject => new JsonArray(1, 2),
                    _ => "not a number",
                };
                break;
            default: throw new ArgumentOutOfRangeException(nameof(damage));
        }

        return node.ToJsonString();
    }

    private async Task SeedAsync()
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        foreach (var id in new[] { "s-1", "s-2" })
        {
            await store.CreateSessionAsync(new ChatSession { SessionId = id, Participants = ["a", "b"], Title = "t", Metadata = new Dictionary<string, string> { ["k"] = "v" } }, Ct);
            await store.AddMessagesAsync(id, [Message(id, "m-1"), Message(id, "m-2"), Message(id, "m-3")], Ct);
        }
    }

    private static async Task AssertOthersWorkAsync(SessionPersistence store, string[] expectedSessions)
    {
        (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().BeEquivalentTo(expectedSessions);
        var ids = new List<string>();
        await foreach (var id in store.Store.ListSessionIdsAsync(Ct))
        {
            ids.Add(id);
        }

        ids.Should().BeEquivalentTo(expectedSessions);
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(expectedSessions.Length);
        (await store.GetSessionAsync("s-2", Ct))!.MessageCount.Should().Be(3);
        (await store.GetMessagesAsync("s-2", 10, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2", "m-3");
        (await store.AddMessageAsync(Message("s-2", "m-4"), Ct)).Sequence.Should().Be(4);
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = $"content of {id}" };
}

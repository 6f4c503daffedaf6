using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// The listing cache of one instance against changes made through another instance of the same folder (instances share
/// nothing in memory, so this is what another process's changes look like).
/// </summary>
public sealed class JsonStoreCatalogTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task WarmListing_SeesCreateDeleteUpdateAndTrimOfAnotherInstance()
    {
        await using var reader = SessionPersistence.Create(_folder.Options());
        await using var writer = SessionPersistence.Create(_folder.Options());
        await writer.CreateSessionAsync("a", ["p"], cancellationToken: Ct);
        await writer.CreateSessionAsync("b", ["p"], cancellationToken: Ct);
        await writer.AddMessagesAsync("b", Enumerable.Range(1, 10).Select(i => Message("b", $"m-{i}")).ToArray(), Ct);
        (await ListAsync(reader, "p")).Should().Equal("b", "a");

        await writer.CreateSessionAsync("c", ["p"], cancellationToken: Ct);
        await writer.DeleteSessionAsync("a", Ct);
        var b = await writer.GetSessionAsync("b", Ct);
        await writer.UpdateSessionAsync(b! with { Participants = ["q"] }, Ct);
        await writer.TrimMessagesAsync("b", 3, Ct);

        (await ListAsync(reader, "p")).Should().Equal("c");
        var q = await reader.ListSessionsAsync(new SessionQuery { Participant = "q" }, Ct);
        q.Sessions.Should().ContainSingle().Which.MessageCount.Should().Be(3);
        var statistics = await reader.GetStatisticsAsync(Ct);
        statistics.SessionCount.Should().Be(2);
        statistics.MessageCount.Should().Be(3);
    }

    [Fact]
    public async Task WarmListing_WhileAnotherInstanceHoldsTheLock_SeesEachAppend()
    {
        await using var reader = SessionPersistence.Create(_folder.Options());
        await using var writer = SessionPersistence.Create(_folder.Options());
        await writer.CreateSessionAsync("s", ["p"], cancellationToken: Ct);
        await reader.ListSessionsAsync(cancellationToken: Ct);

        for (var i = 1; i <= 5; i++)
        {
            // The writer keeps its lock between these appends; the board's held bit makes the reader look each time.
            await writer.AddMessageAsync(Message("s", $"m-{i}"), Ct);
            (await reader.ListSessionsAsync(cancellationToken: Ct)).Sessions.Single().MessageCount.Should().Be(i);
        }
    }

    private static async Task<List<string>> ListAsync(SessionPersistence store, string participant) =>
        [.. (await store.ListSessionsAsync(new SessionQuery { Participant = participant }, Ct)).Sessions.Select(s => s.SessionId)];

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "p", Content = id };
}

using System.Text;
using System.Text.Json;
using FluentAssertions;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>What the Json store leaves on disk, and how it copes with files damaged by crashes or by hand.</summary>
public sealed class JsonStoreFileTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Create_NewFolder_WritesFormatSessionAndJsonLinesReadableAsJson()
    {
        await using (var store = SessionPersistence.Create(_folder.Options()))
        {
            await store.CreateSessionAsync("s-1", ["a", "b"], "Title", cancellationToken: Ct);
            await store.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2", "日本語 \"quoted\"\n")], Ct);
        }

        using var format = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_folder.Root, "format.json"), Ct));
        format.RootElement.GetProperty("format").GetString().Should().Be("multichat-json");
        format.RootElement.GetProperty("version").GetInt32().Should().Be(1);
        using var session = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_folder.FolderOf("s-1"), "session.json"), Ct));
        session.RootElement.GetProperty("sessionId").GetString().Should().Be("s-1");
        var lines = await File.ReadAllLinesAsync(_folder.MessagesOf("s-1"), Ct);
        lines.Should().HaveCount(2);
        var second = JsonDocument.Parse(lines[1]).RootElement;
        second.GetProperty("seq").GetInt64().Should().Be(2);
        second.GetProperty("content").GetString().Should().Be("日本語 \"quoted\"\n");
        lines[1].Should().Contain("日本語", "non-ASCII text stays readable in the file");
    }

    [Fact]
    public async Task Open_FormatOfUnknownVersion_ThrowsStoreCorruptedNamingTheVersion()
    {
        Directory.CreateDirectory(_folder.Root);
        await File.WriteAllTextAsync(Path.Combine(_folder.Root, "format.json"), """{"format":"multichat-json","version":99}""", Ct);

        var open = () => SessionPersistence.Create(_folder.Options());

        open.Should().Throw<StoreCorruptedException>().WithMessage("*version 99*");
    }

    [Fact]
    public async Task AdversarialIds_AllFoldersStayInsideTheRootWithSafeDistinctNames()
    {
        var ids = Conformance.SessionStoreConformanceTests.AdversarialIds.Select(row => (string)row.Data).Concat(["Session", "session", "SESSION"]).ToList();
        await using (var store = SessionPersistence.Create(_folder.Options()))
        {
            foreach (var id in ids)
            {
                await store.CreateSessionAsync(id, ["a"], cancellationToken: Ct);
                await store.AddMessageAsync(Message(id, "m-1"), Ct);
            }
        }

        Directory.EnumerateFileSystemEntries(_folder.Parent).Should().Equal([_folder.Root], "nothing is written beside the root");
        var names = Directory.EnumerateDirectories(Path.Combine(_folder.Root, "sessions")).Select(Path.GetFileName).ToList();
        names.Should().HaveCount(ids.Count);
        names.Select(n => n!.ToUpperInvariant()).Should().OnlyHaveUniqueItems("names must stay distinct on case-insensitive file systems");
        names.Should().AllSatisfy(n =>
        {
            n.Should().MatchRegex("^[a-z0-9_]{0,16}-[a-z2-7]{24}$");
            Encoding.UTF8.GetByteCount(n!).Should().BeLessThan(255);
        });
    }

    [Fact]
    public async Task TornLastLine_IsIgnoredOnReadAndRepairedByTheNextWriter()
    {
        await SeedAsync("s-1", 3);
        await File.AppendAllTextAsync(_folder.MessagesOf("s-1"), """{"seq":4,"id":"torn","sender":"a","cont""", Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        var session = await store.GetSessionAsync("s-1", Ct);
        var read = await store.GetMessagesAsync("s-1", 10, Ct);
        var next = await store.AddMessageAsync(Message("s-1", "m-4"), Ct);

        session!.MessageCount.Should().Be(3);
        read.Select(m => m.Sequence).Should().Equal(1, 2, 3);
        next.Sequence.Should().Be(4);
        var text = await ReadSharedAsync(_folder.MessagesOf("s-1"));
        text.Should().NotContain("torn").And.EndWith("\n");
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(4);
    }

    [Fact]
    public async Task BatchCutShortByACrash_IsDroppedAsAWhole()
    {
        await SeedAsync("s-1", 2);
        await File.AppendAllTextAsync(
            _folder.MessagesOf("s-1"),
            """
            {"seq":3,"id":"b-1","sender":"a","content":"x","timestamp":"2026-01-01T00:00:00+00:00","more":true}
            {"seq":4,"id":"b-2","sender":"a","content":"x","timestamp":"2026-01-01T00:00:00+00:00","more":true}

            """,
            Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        var session = await store.GetSessionAsync("s-1", Ct);
        var next = await store.AddMessageAsync(Message("s-1", "b-1"), Ct);

        session!.MessageCount.Should().Be(2);
        session.LastSequence.Should().Be(2);
        next.Sequence.Should().Be(3, "the unfinished batch was never acknowledged, so its ids are free");
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2", "b-1");
    }

    [Fact]
    public async Task DamagedLineInTheMiddle_IsSkippedLoggedAndReportedAsDegraded()
    {
        await SeedAsync("s-1", 5);
        var path = _folder.MessagesOf("s-1");
        var lines = await File.ReadAllLinesAsync(path, Ct);
        lines[2] = "{\"seq\":3,\"id\":\"secret-id\",\"content\":\"secret content\"" + new string('#', 10);
        await File.WriteAllLinesAsync(path, lines, Ct);
        using var logs = new CapturingLoggerFactory();

        await using var store = SessionPersistence.Create(_folder.Options(), logs);
        var messages = await store.GetMessagesAsync("s-1", new MessageQuery { Limit = 100 }, Ct);
        var latest = await store.GetMessagesAsync("s-1", 10, Ct);
        var next = await store.AddMessageAsync(Message("s-1", "m-6"), Ct);
        var health = await store.CheckHealthAsync(Ct);

        messages.Messages.Select(m => m.Sequence).Should().Equal(1, 2, 4, 5);
        latest.Select(m => m.Sequence).Should().Equal(1, 2, 4, 5);
        next.Sequence.Should().Be(6);
        health.Status.Should().Be(StoreHealthStatus.Degraded);
        var damaged = logs.Events.Where(e => e.Id.Id == 3001).ToList();
        damaged.Should().NotBeEmpty();
        damaged.Should().AllSatisfy(e => e.Message.Should().NotContain("secret"));
    }

    [Fact]
    public async Task TrimMessages_CompactsTheFileAndKeepsSequences()
    {
        await SeedAsync("s-1", 1000);
        var before = new FileInfo(_folder.MessagesOf("s-1")).Length;

        await using (var store = SessionPersistence.Create(_folder.Options()))
        {
            (await store.TrimMessagesAsync("s-1", 10, Ct)).Should().Be(990);
        }

        new FileInfo(_folder.MessagesOf("s-1")).Length.Should().BeLessThan(before / 50);
        Directory.EnumerateFiles(_folder.FolderOf("s-1"), "*.tmp").Should().BeEmpty();
        await using var reopened = SessionPersistence.Create(_folder.Options());
        (await reopened.GetMessagesAsync("s-1", 50, Ct)).Select(m => m.Sequence).Should().Equal(Enumerable.Range(991, 10).Select(i => (long)i));
        var session = await reopened.GetSessionAsync("s-1", Ct);
        session!.MessageCount.Should().Be(10);
        session.LastSequence.Should().Be(1000);
        (await reopened.AddMessageAsync(Message("s-1", "m-1"), Ct)).Sequence.Should().Be(1001, "m-1 was trimmed, so it may come again");
    }

    [Fact]
    public async Task DeleteSession_RemovesTheSessionFilesAndNothingIsListed()
    {
        await SeedAsync("s-1", 3);

        await using var store = SessionPersistence.Create(_folder.Options());
        (await store.DeleteSessionAsync("s-1", Ct)).Should().BeTrue();

        File.Exists(_folder.MessagesOf("s-1")).Should().BeFalse();
        File.Exists(Path.Combine(_folder.FolderOf("s-1"), "session.json")).Should().BeFalse();
        (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Should().BeEmpty();
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(0);
    }

    [Fact]
    public async Task ImportWithGaps_CountsOnlyStoredMessagesAndTrimsExactly()
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        var record = new ChatSession { SessionId = "s-1", Participants = ["a"], Version = 3, LastSequence = 20, CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch };
        var sequences = new long[] { 2, 3, 7, 8, 9, 15 };
        await store.Store.ImportSessionAsync(record, replaceExisting: false, Ct);
        await store.Store.ImportMessagesAsync("s-1", sequences.Select(s => Message("s-1", $"m-{s}") with { Sequence = s, Timestamp = DateTimeOffset.UnixEpoch }).ToArray(), Ct);

        var imported = await store.GetSessionAsync("s-1", Ct);
        var trimmed = await store.TrimMessagesAsync("s-1", 4, Ct);
        var after = await store.GetSessionAsync("s-1", Ct);

        imported!.MessageCount.Should().Be(6);
        imported.LastSequence.Should().Be(20);
        trimmed.Should().Be(2);
        after!.MessageCount.Should().Be(4);
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Sequence).Should().Equal(7, 8, 9, 15);
        (await store.AddMessageAsync(Message("s-1", "next"), Ct)).Sequence.Should().Be(21);
    }

    [Fact]
    public async Task PagingFromASequence_ThenAppending_StillFindsStoredIds()
    {
        await SeedAsync("s-1", 300);

        await using var store = SessionPersistence.Create(_folder.Options());
        var page = await store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = 100, Limit = 3 }, Ct);
        var retried = await store.AddMessageAsync(Message("s-1", "m-5"), Ct);
        var fresh = await store.AddMessageAsync(Message("s-1", "m-301"), Ct);

        page.Messages.Select(m => m.Sequence).Should().Equal(101, 102, 103);
        retried.Sequence.Should().Be(5, "the read built only the offset index; the append builds the id index before deciding");
        fresh.Sequence.Should().Be(301);
    }

    [Fact]
    public async Task DurabilityFull_AppendsAndReadsBack()
    {
        await using var store = SessionPersistence.Create(_folder.Options(Durability.Full));
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);

        await store.AddMessagesAsync("s-1", [Message("s-1", "a"), Message("s-1", "b")], Ct);

        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Sequence).Should().Equal(1, 2);
    }

    private async Task SeedAsync(string sessionId, int count)
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync(sessionId, ["a"], cancellationToken: Ct);
        foreach (var chunk in Enumerable.Range(1, count).Chunk(1000))
        {
            await store.AddMessagesAsync(sessionId, chunk.Select(i => Message(sessionId, $"m-{i}")).ToArray(), Ct);
        }
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(file);
        return await reader.ReadToEndAsync(Ct);
    }

    private static ChatMessage Message(string sessionId, string id, string? content = null) =>
        new() { Id = id, SessionId = sessionId, Sender = "a", Content = content ?? $"content of {id}" };
}

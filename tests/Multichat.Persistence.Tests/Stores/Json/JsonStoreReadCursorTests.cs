using System.Text.Json.Nodes;
using FluentAssertions;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// The Json store's read cursors on disk (<c>reads.json</c>): kept across reopening, shared by instances as a
/// monotonic max, gone with the session's life whatever ended it, and a damaged file set aside instead of taking the
/// session down.
/// </summary>
public sealed class JsonStoreReadCursorTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string ReadsPath => Path.Combine(_folder.FolderOf("s-1"), "reads.json");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task MarkRead_SurvivesReopeningTheStore_AsAnOwnerOnlyFileTaggedWithTheEpoch()
    {
        await using (var store = await SeedAsync(messages: 5))
        {
            await store.MarkReadAsync("s-1", "Agent-2", 3, Ct);
        }

        await using var reopened = SessionPersistence.Create(_folder.Options());
        (await reopened.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 3, 2, 4));
        var reads = JsonNode.Parse(await File.ReadAllTextAsync(ReadsPath, Ct))!;
        var record = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_folder.FolderOf("s-1"), "session.json"), Ct))!;
        reads["epoch"]!.GetValue<long>().Should().Be(record["epoch"]!.GetValue<long>());
        reads["cursors"]!["Agent-2"]!.GetValue<long>().Should().Be(3);
        File.Exists(ReadsPath + ".tmp").Should().BeFalse("the file is written aside and renamed over");
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(ReadsPath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [Fact]
    public async Task MarkRead_ConcurrentlyFromFourInstances_EndsAtTheHighestMark()
    {
        await using var store = await SeedAsync(messages: 200);
        var instances = Enumerable.Range(0, 4).Select(_ => SessionPersistence.Create(_folder.Options())).ToList();
        try
        {
            var marks = await Task.WhenAll(instances.Select(async (instance, index) =>
            {
                var random = new Random(index);
                long highest = 0;
                for (var i = 0; i < 25; i++)
                {
                    var sequence = random.NextInt64(0, 201);
                    highest = Math.Max(highest, sequence);
                    (await instance.MarkReadAsync("s-1", "Agent-2", sequence, Ct)).LastReadSequence.Should().BeGreaterThanOrEqualTo(sequence);
                }

                return highest;
            }));

            (await store.GetReadStateAsync("s-1", "Agent-2", Ct)).LastReadSequence.Should().Be(marks.Max());
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ImportWithReplaceExisting_StartsWithoutCursors_AndRemovesTheFile()
    {
        await using var store = await SeedAsync(messages: 3);
        await store.MarkReadAsync("s-1", "Agent-2", 3, Ct);
        var session = (await store.GetSessionAsync("s-1", Ct))!;

        await SessionStorePipeline.Unwrap(store.Store).ImportSessionAsync(session, replaceExisting: true, Ct);

        File.Exists(ReadsPath).Should().BeFalse();
        (await store.GetReadStateAsync("s-1", "Agent-2", Ct)).LastReadSequence.Should().Be(3, "the imported record keeps its last sequence, and none of its messages is stored: all count as read");
        await store.AddMessageAsync(Message("s-1", "after-import"), Ct);
        (await store.GetReadStateAsync("s-1", "Agent-2", Ct)).UnreadCount.Should().Be(1);
    }

    [Fact]
    public async Task RestoreReplacingTheSession_StartsWithoutCursors()
    {
        await using var store = await SeedAsync(messages: 4);
        var archive = Path.Combine(_folder.Parent, "s.mcbak");
        await store.BackupAsync(archive, Ct);
        await store.MarkReadAsync("s-1", "Agent-2", 4, Ct);

        await store.RestoreAsync(archive, RestoreMode.Replace, cancellationToken: Ct);

        File.Exists(ReadsPath).Should().BeFalse();
        (await store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 0, 4, 1));
    }

    [Fact]
    public async Task ReadsJsonOfAnEarlierLife_LeftByADeleteCutShort_IsNotReadAsTheNewLifes()
    {
        await using var store = await SeedAsync(messages: 3);
        await store.MarkReadAsync("s-1", "Agent-2", 3, Ct);
        var earlier = await File.ReadAllBytesAsync(ReadsPath, Ct);
        await store.DeleteSessionAsync("s-1", Ct);
        await store.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await AppendAsync(store, 3);

        // As if the delete had stopped before it removed reads.json.
        await File.WriteAllBytesAsync(ReadsPath, earlier, Ct);

        await using var reopened = SessionPersistence.Create(_folder.Options());
        (await reopened.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 0, 3, 1));
        (await reopened.MarkReadAsync("s-1", "Agent-2", 1, Ct)).LastReadSequence.Should().Be(1);
    }

    public static TheoryData<string> Damages() =>
    [
        "not json",
        "",
        "null",
        "[]",
        """{"epoch": 1}""",
        """{"epoch": "one", "cursors": {}}""",
        """{"epoch": 1, "cursors": null}""",
        """{"epoch": 1, "cursors": {"Agent-2": "two"}}""",
        """{"epoch": 1, "cursors": {"Agent-2": -1}}""",
        """{"epoch": 1, "cursors": {"Agent-2": 99}}""",
        """{"epoch": 1, "cursors": {"": 1}}""",
    ];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task DamagedReadsJson_IsSetAside_AndTheSessionKeepsWorking(string content)
    {
        await using (var seeded = await SeedAsync(messages: 3))
        {
            await seeded.MarkReadAsync("s-1", "Agent-2", 2, Ct);
        }

        // The damaged file keeps the session's epoch where it has one, so only the damage can be what sets it aside.
        var epoch = JsonNode.Parse(await File.ReadAllTextAsync(ReadsPath, Ct))!["epoch"]!.GetValue<long>();
        var damaged = content.Replace("\"epoch\": 1", $"\"epoch\": {epoch}", StringComparison.Ordinal);
        await File.WriteAllTextAsync(ReadsPath, damaged, Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        (await store.GetReadStateAsync("s-1", "Agent-2", Ct)).Should().Be(new ReadState("s-1", "Agent-2", 0, 3, 1), "the marks are lost with the file, nothing else");
        File.Exists(ReadsPath + ".damaged").Should().BeTrue();
        (await File.ReadAllTextAsync(ReadsPath + ".damaged", Ct)).Should().Be(damaged, "it is kept as it was, for inspection");
        (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Degraded);
        (await store.GetMessagesAsync("s-1", 10, Ct)).Should().HaveCount(3);

        (await store.MarkReadAsync("s-1", "Agent-2", 1, Ct)).Should().Be(new ReadState("s-1", "Agent-2", 1, 2, 2));
        await using var reopened = SessionPersistence.Create(_folder.Options());
        (await reopened.GetReadStateAsync("s-1", "Agent-2", Ct)).LastReadSequence.Should().Be(1, "the next mark wrote a good file");
    }

    private async Task<SessionPersistence> SeedAsync(int messages)
    {
        var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await AppendAsync(store, messages);
        return store;
    }

    private static async Task AppendAsync(SessionPersistence store, int count)
    {
        for (var i = 1; i <= count; i++)
        {
            await store.AddMessageAsync(Message("s-1", $"m-{Guid.NewGuid():N}"), Ct);
        }
    }

    private static ChatMessage Message(string sessionId, string id) =>
        new() { Id = id, SessionId = sessionId, Sender = "Agent-1", Content = $"content of {id}" };
}

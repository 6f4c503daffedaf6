using FluentAssertions;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// A restore replaces each session atomically (issue #11): a TestWorker killed half-way, and each state a replacement
/// cut short can leave on disk (staged messages without their record, a committed record not yet renamed, half renamed).
/// </summary>
public sealed class JsonStoreRestoreTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Restore_WorkerKilledHalfWay_LeavesEachSessionAsItWasOrAsArchived()
    {
        // Kill points spread over the 15,000 restored messages; more rounds with MULTICHAT_FAULT_ROUNDS.
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), out var r) && r > 0 ? r : 3;
        var random = new Random(20261202);
        for (var round = 0; round < rounds; round++)
        {
            using var folder = new JsonTestFolder();
            var killAfter = round < 3 ? new[] { 1_600, 6_700, 12_100 }[round] : random.Next(1_600, 13_500);
            var (asArchive, asBefore) = await RestoreKillCheck.RunAsync(
                () => SessionPersistence.Create(folder.Options()), ["Json", folder.Root], killAfter, Ct);

            TestContext.Current.TestOutputHelper?.WriteLine($"round {round}: killed after {killAfter} messages: {asArchive} as archived, {asBefore} as before");
            (asArchive + asBefore).Should().Be(10);
            Directory.EnumerateFiles(Path.Combine(folder.Root, "sessions"), "*.restore", SearchOption.AllDirectories)
                .Should().BeEmpty("the store's next lock holders finished or removed every replacement cut short");
        }
    }

    [Fact]
    public async Task ReplaceSession_StagedMessagesWithoutRecord_AreDeletedAndTheOldSessionIsKept()
    {
        await SeedAsync("s", "old", 4);
        await File.WriteAllTextAsync(Staged("s", JsonSessionReplacement.StagedMessagesName), "{\"seq\":1,\"id\":\"half", Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        var messages = await StoredMessages.ReadAllAsync(store, "s", Ct);

        messages.Select(m => m.Id).Should().Equal("old-1", "old-2", "old-3", "old-4");
        (await store.GetSessionAsync("s", Ct))!.Title.Should().Be("old");
        File.Exists(Staged("s", JsonSessionReplacement.StagedMessagesName)).Should().BeFalse();
    }

    [Fact]
    public async Task ReplaceSession_StagedMessagesOfARestoreStillRunning_AreLeftAlone()
    {
        await SeedAsync("s", "old", 4);
        await File.WriteAllTextAsync(Staged("s", JsonSessionReplacement.StagedMessagesName), "{\"seq\":1,\"id\":\"half", Ct);

        // What a restore in another process holds while it writes the staged messages.
        using (new FileStream(Staged("s", ".restore.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            await using var store = SessionPersistence.Create(_folder.Options());
            (await StoredMessages.ReadAllAsync(store, "s", Ct)).Should().HaveCount(4);
            File.Exists(Staged("s", JsonSessionReplacement.StagedMessagesName)).Should().BeTrue();
        }
    }

    [Fact]
    public async Task ReplaceSession_CommittedButNotRenamed_IsListedAndReadAsTheNewSession()
    {
        await SeedAsync("s", "old", 4);
        await StageCommittedAsync("s", "new", 6);

        await using var store = SessionPersistence.Create(_folder.Options());
        var listed = (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Single();
        var session = await store.GetSessionAsync("s", Ct);
        var messages = await StoredMessages.ReadAllAsync(store, "s", Ct);

        listed.Should().BeEquivalentTo(new { Title = "new", MessageCount = 6L, LastSequence = 6L });
        session.Should().BeEquivalentTo(new { Title = "new", MessageCount = 6L, LastSequence = 6L });
        messages.Select(m => m.Id).Should().Equal(Enumerable.Range(1, 6).Select(i => $"new-{i}"));
        File.Exists(Staged("s", JsonSessionReplacement.StagedRecordName)).Should().BeFalse();
        File.Exists(Staged("s", JsonSessionReplacement.StagedMessagesName)).Should().BeFalse();
    }

    [Fact]
    public async Task ReplaceSession_KilledBetweenTheTwoRenames_IsFinishedAsTheNewSession()
    {
        await SeedAsync("s", "old", 4);
        await StageCommittedAsync("s", "new", 6);
        File.Move(Staged("s", JsonSessionReplacement.StagedMessagesName), _folder.MessagesOf("s"), overwrite: true);

        await using var store = SessionPersistence.Create(_folder.Options());
        var messages = await StoredMessages.ReadAllAsync(store, "s", Ct);

        (await store.GetSessionAsync("s", Ct))!.Title.Should().Be("new");
        messages.Select(m => m.Id).Should().Equal(Enumerable.Range(1, 6).Select(i => $"new-{i}"));
    }

    [Fact]
    public async Task Restore_SessionCachedByAnotherInstance_ThatInstanceSeesTheArchivedSessionAndItsIds()
    {
        await SeedAsync("s", "archived", 5);
        using var archive = new MemoryStream();
        await using (var store = SessionPersistence.Create(_folder.Options()))
        {
            await store.BackupAsync(archive, Ct);
            await store.AddMessagesAsync("s", [.. Enumerable.Range(6, 5).Select(i => Message("s", $"later-{i}"))], Ct);
        }

        // Two instances in one process behave as two processes: nothing is shared in memory.
        await using var reader = SessionPersistence.Create(_folder.Options());
        (await StoredMessages.ReadAllAsync(reader, "s", Ct)).Should().HaveCount(10);
        await using (var restorer = SessionPersistence.Create(_folder.Options()))
        {
            await restorer.RestoreAsync(new MemoryStream(archive.ToArray()), Ct);
        }

        var retried = await reader.AddMessageAsync(Message("s", "archived-3"), Ct);
        var added = await reader.AddMessageAsync(Message("s", "after"), Ct);

        (await StoredMessages.ReadAllAsync(reader, "s", Ct)).Select(m => m.Id).Should().Equal("archived-1", "archived-2", "archived-3", "archived-4", "archived-5", "after");
        retried.Sequence.Should().Be(3, "a retry of an archived id is recognised as stored");
        added.Sequence.Should().Be(6, "the restored session continues after its archived history, as an import does");
    }

    [Fact]
    public async Task Restore_OfASessionThatWasDeleted_IsCountedByTheNextCreateUnderALimit()
    {
        await SeedAsync("a", "archived", 2);
        await SeedAsync("b", "archived", 2);
        using var archive = new MemoryStream();
        var limited = _folder.Options();
        limited.MaxSessions = 3;
        await using var store = SessionPersistence.Create(limited);
        await store.BackupAsync(archive, Ct);
        await store.DeleteSessionAsync("b", Ct);
        await store.CreateSessionAsync("c", ["x"], cancellationToken: Ct);

        await store.RestoreAsync(new MemoryStream(archive.ToArray()), Ct);
        var overLimit = () => store.CreateSessionAsync("d", ["x"], cancellationToken: Ct);

        await overLimit.Should().ThrowAsync<QuotaExceededException>("a, b (restored) and c are three sessions");
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(3);
    }

    [Fact]
    public async Task Restore_FailingArchiveStream_LeavesNoStagedFile()
    {
        await SeedAsync("s", "archived", 3000);
        using var archive = new MemoryStream();
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.BackupAsync(archive, Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var act = () => store.RestoreAsync(
            new MemoryStream(archive.ToArray()), RestoreMode.Replace, new SynchronousProgress(p => { if (p.MessagesDone > 0) { cancel.Cancel(); } }), cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        Directory.EnumerateFiles(_folder.FolderOf("s"), "*.restore").Should().BeEmpty();
        (await StoredMessages.ReadAllAsync(store, "s", Ct)).Should().HaveCount(3000);
    }

    private string Staged(string sessionId, string name) => Path.Combine(_folder.FolderOf(sessionId), name);

    private async Task SeedAsync(string sessionId, string title, int count)
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync(sessionId, ["a", "b"], title: title, cancellationToken: Ct);
        foreach (var chunk in Enumerable.Range(1, count).Chunk(500))
        {
            await store.AddMessagesAsync(sessionId, [.. chunk.Select(i => Message(sessionId, $"{title}-{i}"))], Ct);
        }
    }

    /// <summary>What a replacement killed right after its commit point leaves: both staged files beside the old ones.</summary>
    private async Task StageCommittedAsync(string sessionId, string title, int count)
    {
        using var other = new JsonTestFolder();
        await using (var store = SessionPersistence.Create(other.Options()))
        {
            await store.CreateSessionAsync(sessionId, ["a", "b"], title: title, cancellationToken: Ct);
            await store.AddMessagesAsync(sessionId, [.. Enumerable.Range(1, count).Select(i => Message(sessionId, $"{title}-{i}"))], Ct);
        }

        File.Copy(other.MessagesOf(sessionId), Staged(sessionId, JsonSessionReplacement.StagedMessagesName));
        File.Copy(Path.Combine(other.FolderOf(sessionId), "session.json"), Staged(sessionId, JsonSessionReplacement.StagedRecordName));
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = $"content of {id}" };

    private sealed class SynchronousProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}

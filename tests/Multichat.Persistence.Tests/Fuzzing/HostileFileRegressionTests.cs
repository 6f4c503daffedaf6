using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// One small test per bug the fuzz targets found (docs/storage-formats.md, "Hostile files"), so each stays fixed even
/// if the seeded inputs that found it change.
/// </summary>
public sealed class HostileFileRegressionTests : IDisposable
{
    private const string Session = "s";
    private const int Stored = 5;

    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string IdFile => Path.Combine(_folder.FolderOf(Session), "ids.idx");

    private string Record => Path.Combine(_folder.FolderOf(Session), "session.json");

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public async Task IdFile_NegativeIndexedThrough_IsRebuiltAndARetryFindsItsOriginal(long indexedThrough)
    {
        await SeedAsync();
        WriteIdHeader(JsonIdFile.IndexedThroughAt, indexedThrough);

        await using var store = SessionPersistence.Create(_folder.Options());
        var retry = await store.AddMessageAsync(Message("m-3"), Ct);

        retry.Sequence.Should().Be(3, "the rebuilt table finds the original");
        (await store.AddMessageAsync(Message("new"), Ct)).Sequence.Should().Be(Stored + 1);
    }

    [Fact]
    public async Task IdFile_HighestAtLongMaxValue_IsRebuiltAndTheNextSequenceFollowsTheLines()
    {
        await SeedAsync();
        WriteIdHeader(JsonIdFile.HighestAt, long.MaxValue);

        await using var store = SessionPersistence.Create(_folder.Options());
        var added = await store.AddMessageAsync(Message("new"), Ct);

        added.Sequence.Should().Be(Stored + 1, "a Highest no session reaches is damage, not a sequence to continue from");
    }

    [Fact]
    public async Task IdFile_HighestRaisedPast2To32_RetriesOfEarlierMessagesStillFindTheirOriginals()
    {
        await SeedAsync();
        var jump = Stored + (1L << 39); // a flipped bit of Highest's fifth byte
        WriteIdHeader(JsonIdFile.HighestAt, jump);

        await using var store = SessionPersistence.Create(_folder.Options());
        (await store.AddMessageAsync(Message("new"), Ct)).Sequence.Should().Be(jump + 1, "an issued sequence stays issued");
        var retry = await store.AddMessageAsync(Message("m-2"), Ct);

        retry.Sequence.Should().Be(2, "a slot's low 32 bits are also read as a sequence just above the first one");
    }

    [Fact]
    public async Task MessageLine_SequenceAtLongMaxValue_IsADamagedLineAndAppendsGoOn()
    {
        await SeedAsync();
        var path = _folder.MessagesOf(Session);
        File.WriteAllText(path, File.ReadAllText(path).Replace($"{{\"seq\":{Stored},", $"{{\"seq\":{long.MaxValue},", StringComparison.Ordinal));

        await using var store = SessionPersistence.Create(_folder.Options());
        var page = await store.GetMessagesAsync(Session, new MessageQuery { Limit = 100 }, Ct);
        var added = await store.AddMessageAsync(Message("new"), Ct);

        page.Messages.Select(m => m.Sequence).Should().Equal(1, 2, 3, 4);
        added.Sequence.Should().Be(Stored + 1, "the damaged line's sequence stays issued (the id file saw it), nothing wraps");
    }

    [Fact]
    public async Task SessionRecord_LastSequenceAtTheBound_RefusesTheAppendTypedAndStillReads()
    {
        await SeedAsync();
        EditRecord(r => r["lastSequence"] = JsonMessageLine.MaxSequence);

        await using var store = SessionPersistence.Create(_folder.Options());
        var append = () => store.AddMessageAsync(Message("new"), Ct);

        await append.Should().ThrowAsync<StoreCorruptedException>();
        (await store.GetMessagesAsync(Session, new MessageQuery { Limit = 100 }, Ct)).Messages.Should().HaveCount(Stored);
    }

    [Theory]
    [InlineData("lastSequence", long.MaxValue)]
    [InlineData("firstSequence", 50L)] // above lastSequence + 1: every new message would be hidden at once
    public async Task SessionRecord_CounterNoStoreWrites_IsADamagedRecord(string field, long value)
    {
        await SeedAsync();
        EditRecord(r => r[field] = value);

        await using var store = SessionPersistence.Create(_folder.Options());
        var read = () => store.GetSessionAsync(Session, Ct);
        var append = () => store.AddMessageAsync(Message("new"), Ct);

        await read.Should().ThrowAsync<StoreCorruptedException>();
        await append.Should().ThrowAsync<StoreCorruptedException>();
    }

    [Fact]
    public async Task Restore_AlteredArchiveWhoseEditAlsoBreaksALimit_IsRefusedAsDamaged()
    {
        await using var source = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await source.CreateSessionAsync(Session, ["a"], cancellationToken: Ct);
        await source.AddMessageAsync(Message("m-1"), Ct);
        using var written = new MemoryStream();
        await source.BackupAsync(written, Ct);
        var lines = ArchiveMutations.Decompress(written.ToArray());
        lines[2] = lines[2].Replace("\"sender\":\"a\"", "\"sender\":\"\"", StringComparison.Ordinal);
        var altered = ArchiveMutations.Compress(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));

        await using var target = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        var restore = () => target.RestoreAsync(new MemoryStream(altered), Ct);

        await restore.Should().ThrowAsync<StoreCorruptedException>("the checksum no longer holds: the file, not the settings, is the problem");
        (await target.ListSessionsAsync(new SessionQuery(), Ct)).Sessions.Should().BeEmpty();
    }

    [Fact]
    public async Task Restore_ForgedArchiveWithANegativeLastSequenceAfterAGoodSession_WritesNothing()
    {
        await using var source = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await source.CreateSessionAsync("a-good", ["a"], cancellationToken: Ct);
        await source.CreateSessionAsync("b-bad", ["a"], cancellationToken: Ct);
        using var written = new MemoryStream();
        await source.BackupAsync(written, Ct);

        // Version 1 (no checksum) stands for any forged archive: the checking pass is all there is between it and the store.
        var lines = ArchiveMutations.Decompress(written.ToArray()).Select(l => l.Replace("\"version\":2", "\"version\":1", StringComparison.Ordinal)).ToArray();
        var bad = Array.FindIndex(lines, l => l.Contains("\"sessionId\":\"b-bad\"", StringComparison.Ordinal));
        lines[bad] = lines[bad].Replace("\"lastSequence\":0", "\"lastSequence\":-1", StringComparison.Ordinal);
        lines.Should().Contain(l => l.Contains("\"lastSequence\":-1", StringComparison.Ordinal)).And.Contain(l => l.Contains("a-good", StringComparison.Ordinal));
        lines[^1] = JsonNode.Parse(lines[^1])!.AsObject() is var end && end["end"]!.AsObject().Remove("sha256") ? end.ToJsonString() : lines[^1];
        var forged = ArchiveMutations.Compress(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));

        await using var target = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        var restore = () => target.RestoreAsync(new MemoryStream(forged), Ct);

        (await restore.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().StartWith("The archive's session 'b-bad'");
        (await target.ListSessionsAsync(new SessionQuery(), Ct)).Sessions.Should().BeEmpty("the checking pass refuses what the writing pass would");
    }

    private async Task SeedAsync()
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync(Session, ["a"], cancellationToken: Ct);
        for (var i = 1; i <= Stored; i++)
        {
            await store.AddMessageAsync(Message($"m-{i}"), Ct);
        }
    }

    private void WriteIdHeader(int offset, long value)
    {
        var bytes = File.ReadAllBytes(IdFile);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), value);
        File.WriteAllBytes(IdFile, bytes);
    }

    private void EditRecord(Action<JsonObject> edit)
    {
        var record = JsonNode.Parse(File.ReadAllText(Record))!.AsObject();
        edit(record);
        File.WriteAllText(Record, record.ToJsonString());
    }

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = Session, Sender = "a", Content = $"content of {id}" };
}

using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using FluentAssertions;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// The session's id file (ids.idx) through the store: idempotency holds whatever state a crash, a reboot, another
/// instance or a damaged file left it in, because the messages file stays the truth it is caught up or rebuilt from.
/// </summary>
public sealed class JsonStoreIdFileTests : IDisposable
{
    private const string Session = "s-1";
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string IdsPath => Path.Combine(_folder.FolderOf(Session), "ids.idx");

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Damages => ["no magic", "truncated", "another incarnation", "indexed past the end", "not at a line end", "emptied table"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Append_DamagedIdFile_IsRebuiltAndRetriesStoreNothing(string damage)
    {
        await SeedAsync(500);
        var length = new FileInfo(_folder.MessagesOf(Session)).Length;
        switch (damage)
        {
            case "no magic":
                WriteHeader(JsonIdFile.MagicAt, 0);
                break;
            case "truncated":
                using (var file = new FileStream(IdsPath, FileMode.Open))
                {
                    file.SetLength(file.Length / 2);
                }

                break;
            case "another incarnation":
                WriteHeader(JsonIdFile.IncarnationAt, 77);
                break;
            case "indexed past the end":
                WriteHeader(JsonIdFile.IndexedThroughAt, length + 100);
                break;
            case "not at a line end":
                WriteHeader(JsonIdFile.IndexedThroughAt, length - 5);
                break;
            case "emptied table":
                // A table that claims the whole file but holds no slot: the check of its last indexed line catches it.
                using (var file = new FileStream(IdsPath, FileMode.Open))
                {
                    file.Position = JsonIdFile.HeaderSize;
                    file.Write(new byte[file.Length - JsonIdFile.HeaderSize]);
                }

                break;
        }

        await using var store = SessionPersistence.Create(_folder.Options());
        await ShouldStoreNothingOnRetryAsync(store, 500);
    }

    [Fact]
    public async Task Append_LinesWrittenWithoutTheirSlots_AreIndexedByTheNextWriter()
    {
        // A writer killed after writing its lines and before writing their slots: IndexedThrough stays behind.
        await SeedAsync(300);
        await AppendLinesByHandAsync(301, 20);

        await using var store = SessionPersistence.Create(_folder.Options());
        var retried = await store.AddMessageAsync(Message("m-310"), Ct);
        var fresh = await store.AddMessageAsync(Message("m-999"), Ct);

        retried.Sequence.Should().Be(310);
        fresh.Sequence.Should().Be(321);
        await ShouldStoreNothingOnRetryAsync(store, 320);
        ReadHeader(JsonIdFile.IndexedThroughAt).Should().Be(new FileInfo(_folder.MessagesOf(Session)).Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(150)]
    public async Task Append_IndexedThroughRewound_IsCaughtUpWithoutDuplicateSlots(int linesIndexed)
    {
        await SeedAsync(300);
        var count = ReadHeader(JsonIdFile.CountAt);
        var lines = await File.ReadAllLinesAsync(_folder.MessagesOf(Session), Ct);
        WriteHeader(JsonIdFile.IndexedThroughAt, lines.Take(linesIndexed).Sum(l => (long)l.Length + 1));

        await using (var store = SessionPersistence.Create(_folder.Options()))
        {
            await ShouldStoreNothingOnRetryAsync(store, 300);
        }

        ReadHeader(JsonIdFile.CountAt).Should().Be(count, "indexing lines whose slots exist adds nothing");
    }

    [Fact]
    public async Task Append_SecondInstance_SeesIdsAppendedByTheFirst()
    {
        await using var first = SessionPersistence.Create(_folder.Options());
        await using var second = SessionPersistence.Create(_folder.Options());
        await first.CreateSessionAsync(Session, ["a"], cancellationToken: Ct);
        await second.AddMessageAsync(Message("warm-up"), Ct);

        for (var i = 1; i <= 100; i++)
        {
            await first.AddMessageAsync(Message($"m-{i}"), Ct);
        }

        (await second.AddMessageAsync(Message("m-50"), Ct)).Sequence.Should().Be(51);
        (await second.AddMessageAsync(Message("m-101"), Ct)).Sequence.Should().Be(102);
        (await first.AddMessageAsync(Message("m-101"), Ct)).Sequence.Should().Be(102);
        (await first.GetSessionAsync(Session, Ct))!.MessageCount.Should().Be(102);
    }

    [Fact]
    public async Task Append_GrowthByOneInstance_IsNoticedByAnotherThatStillMapsTheOldFile()
    {
        await using var first = SessionPersistence.Create(_folder.Options());
        await using var second = SessionPersistence.Create(_folder.Options());
        await first.CreateSessionAsync(Session, ["a"], cancellationToken: Ct);
        await first.AddMessageAsync(Message("f-0"), Ct);
        var capacity = ReadHeader(JsonIdFile.CapacityAt);

        // The second instance grows the table several times while the first keeps its mapping of the first file.
        for (var chunk = 0; chunk < 5; chunk++)
        {
            await second.AddMessagesAsync(Session, Enumerable.Range(chunk * 200, 200).Select(i => Message($"s-{i}")).ToArray(), Ct);
        }

        ReadHeader(JsonIdFile.CapacityAt).Should().BeGreaterThan(capacity);
        const int Reserved = JsonIdFile.HeaderSize - 8; // unused by the store: marks which file is at the path now
        WriteHeader(Reserved, 4242);
        (await first.AddMessageAsync(Message("s-777"), Ct)).Sequence.Should().Be(779);
        (await first.AddMessageAsync(Message("f-1"), Ct)).Sequence.Should().Be(1002);

        // A stale mapping would still answer right (it catches up from the messages file, and its own growth would put
        // it back at the path), but the first instance must have switched to the grown file.
        ReadHeader(Reserved).Should().Be(4242, "the first instance must use the grown table, not keep indexing the old one");
        ReadHeader(JsonIdFile.IndexedThroughAt).Should().Be(new FileInfo(_folder.MessagesOf(Session)).Length);
        (await second.AddMessageAsync(Message("f-1"), Ct)).Sequence.Should().Be(1002);
        (await second.AddMessageAsync(Message("f-0"), Ct)).Sequence.Should().Be(1);
        (await second.GetSessionAsync(Session, Ct))!.MessageCount.Should().Be(1002);
    }

    [Fact]
    public async Task Append_AfterAReboot_TrustsOnlyTheCheckpointedPartOfTheTable()
    {
        await SeedAsync(400);
        var lines = await File.ReadAllLinesAsync(_folder.MessagesOf(Session), Ct);

        // As if the machine lost power after a checkpoint at line 100: of the pages written since, only the header (with
        // IndexedThrough at the end) and the page holding the last line's slot reached the disk.
        KeepOnlySlotsOf([.. Enumerable.Range(1, 100), 400]);
        WriteHeader(JsonIdFile.SyncedThroughAt, lines.Take(100).Sum(l => (long)l.Length + 1));
        WriteHeader(JsonIdFile.BootTimeAt, 1);
        WriteHeader(JsonIdFile.BootIdAt, 3);

        await using var store = SessionPersistence.Create(_folder.Options());
        await ShouldStoreNothingOnRetryAsync(store, 400);
        ReadHeader(JsonIdFile.IndexedThroughAt).Should().Be(new FileInfo(_folder.MessagesOf(Session)).Length);
    }

    [Theory]
    [InlineData(Durability.Normal)]
    [InlineData(Durability.Full)]
    public async Task Dispose_CheckpointsTheIdFile(Durability durability)
    {
        await using (var store = SessionPersistence.Create(_folder.Options(durability)))
        {
            await store.CreateSessionAsync(Session, ["a"], cancellationToken: Ct);
            await store.AddMessagesAsync(Session, [Message("m-1"), Message("m-2")], Ct);
        }

        var length = new FileInfo(_folder.MessagesOf(Session)).Length;
        ReadHeader(JsonIdFile.IndexedThroughAt).Should().Be(length);
        ReadHeader(JsonIdFile.SyncedThroughAt).Should().Be(length, "the table was flushed, so a power loss now costs no catch-up");
    }

    [Fact]
    public async Task Reads_NeverOpenTheIdFile()
    {
        await SeedAsync(300);
        File.Delete(IdsPath);

        await using var store = SessionPersistence.Create(_folder.Options());
        var latest = await store.GetMessagesAsync(Session, 10, Ct);
        var after = await store.GetMessagesAsync(Session, new MessageQuery { AfterSequence = 200, Limit = 5 }, Ct);
        var before = await store.GetMessagesAsync(Session, new MessageQuery { BeforeSequence = 100, Limit = 5, Order = MessageOrder.NewestFirst }, Ct);
        await store.GetSessionAsync(Session, Ct);

        latest.Select(m => m.Sequence).Should().Equal(Enumerable.Range(291, 10).Select(i => (long)i));
        after.Messages.Select(m => m.Sequence).Should().Equal(201, 202, 203, 204, 205);
        before.Messages.Select(m => m.Sequence).Should().Equal(99, 98, 97, 96, 95);
        File.Exists(IdsPath).Should().BeFalse("readers hold nothing per message and need no id index");
    }

    [Fact]
    public async Task TrimWithCompaction_RebuildsTheIdFileFromTheKeptLines()
    {
        await SeedAsync(1000);

        await using var store = SessionPersistence.Create(_folder.Options());
        await store.TrimMessagesAsync(Session, 10, Ct);

        File.Exists(IdsPath).Should().BeFalse("the table of the old incarnation is dropped with it");
        (await store.AddMessageAsync(Message("m-995"), Ct)).Sequence.Should().Be(995);
        (await store.AddMessageAsync(Message("m-5"), Ct)).Sequence.Should().Be(1001, "m-5 was trimmed, so it may come again");
        ReadHeader(JsonIdFile.CountAt).Should().Be(11);
    }

    [Fact]
    public async Task DeleteSession_RemovesTheIdFile()
    {
        await SeedAsync(5);

        await using var store = SessionPersistence.Create(_folder.Options());
        await store.DeleteSessionAsync(Session, Ct);

        File.Exists(IdsPath).Should().BeFalse();
    }

    private async Task SeedAsync(int count)
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync(Session, ["a"], cancellationToken: Ct);
        foreach (var chunk in Enumerable.Range(1, count).Chunk(100))
        {
            await store.AddMessagesAsync(Session, chunk.Select(i => Message($"m-{i}")).ToArray(), Ct);
        }
    }

    /// <summary>Re-appends every id m-1 .. m-<paramref name="count"/> and checks each returns its original and nothing is stored.</summary>
    private static async Task ShouldStoreNothingOnRetryAsync(SessionPersistence store, int count)
    {
        var before = (await store.GetSessionAsync(Session, Ct))!;
        foreach (var chunk in Enumerable.Range(1, count).Chunk(100))
        {
            var stored = await store.AddMessagesAsync(Session, chunk.Select(i => Message($"m-{i}")).ToArray(), Ct);
            stored.Where(m => m.Id.StartsWith("m-", StringComparison.Ordinal))
                .Should().AllSatisfy(m => m.Sequence.Should().Be(long.Parse(m.Id[2..], System.Globalization.CultureInfo.InvariantCulture)));
        }

        var after = (await store.GetSessionAsync(Session, Ct))!;
        after.LastSequence.Should().Be(before.LastSequence, "a retry of a stored id stores nothing");
        after.MessageCount.Should().Be(before.MessageCount);
    }

    private async Task AppendLinesByHandAsync(int firstSequence, int count)
    {
        var buffer = new ArrayBufferWriter<byte>();
        await using (var writer = new Utf8JsonWriter(buffer, JsonMessageLine.WriterOptions))
        {
            for (var i = 0; i < count; i++)
            {
                var sequence = firstSequence + i;
                var message = Message($"m-{sequence}") with { Sequence = sequence, Timestamp = DateTimeOffset.UnixEpoch };
                JsonMessageLine.Write(writer, buffer, message, DateTimeOffset.UnixEpoch, more: false);
            }
        }

        await using var file = new FileStream(_folder.MessagesOf(Session), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        await file.WriteAsync(buffer.WrittenMemory, Ct);
    }

    /// <summary>Leaves in the table only the slots of m-{sequence} for the given sequences, each where a lookup finds it.</summary>
    private void KeepOnlySlotsOf(int[] sequences)
    {
        var bytes = File.ReadAllBytes(IdsPath);
        var slots = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(bytes.AsSpan(JsonIdFile.HeaderSize));
        slots.Clear();
        foreach (var sequence in sequences)
        {
            var fragment = (uint)(JsonSessionKey.HashOf($"m-{sequence}") >> 32);
            fragment = fragment == 0 ? 1 : fragment;
            var i = (int)(fragment & (uint)(slots.Length - 1));
            while (slots[i] != 0)
            {
                i = (i + 1) & (slots.Length - 1);
            }

            slots[i] = ((ulong)fragment << 32) | (uint)sequence;
        }

        File.WriteAllBytes(IdsPath, bytes);
    }

    private long ReadHeader(int offset)
    {
        Span<byte> bytes = stackalloc byte[8];
        using var file = new FileStream(IdsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        file.Position = offset;
        file.ReadExactly(bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    private void WriteHeader(int offset, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        using var file = new FileStream(IdsPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        file.Position = offset;
        file.Write(bytes);
    }

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = Session, Sender = "a", Content = $"content of {id}" };
}

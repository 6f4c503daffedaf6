using System.Buffers.Binary;
using FluentAssertions;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>The mapped idempotency table (ids.idx) on its own: probing, dedupe, growth, supersession, checkpoints, reboots.</summary>
public sealed class JsonIdFileTests : IDisposable
{
    private const ulong Incarnation = 12345;
    private readonly JsonTestFolder _folder = new();

    private string PathOfIds => Path.Combine(_folder.Parent, "ids.idx");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Add_SameIdAndSequenceTwice_StoresOneSlot()
    {
        using var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null);

        ids.Add(JsonSessionKey.HashOf("m-1"), 1);
        ids.Add(JsonSessionKey.HashOf("m-1"), 1);

        ids.Count.Should().Be(1, "indexing a line again after a crash must not add a second slot");
        var found = new List<long>();
        ids.Candidates(JsonSessionKey.HashOf("m-1"), 1, 1, found);
        found.Should().Equal(1L);
    }

    [Fact]
    public void Add_PastThreeQuartersLoad_GrowsAndStillProposesEveryId()
    {
        using var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null);
        const long First = (1L << 32) - 1000; // crosses the 32-bit boundary of the stored low bits
        var initial = ids.Capacity;

        for (long i = 0; i < 50_000; i++)
        {
            ids.Add(JsonSessionKey.HashOf($"id-{i}"), First + i);
        }

        ids.Capacity.Should().BeGreaterThan(initial);
        (ids.Count * 4).Should().BeLessThanOrEqualTo(ids.Capacity * 3);
        ids.Count.Should().Be(50_000);
        var found = new List<long>();
        for (long i = 0; i < 50_000; i++)
        {
            ids.Candidates(JsonSessionKey.HashOf($"id-{i}"), First, First + 49_999, found);
            found.Should().Contain(First + i);
        }

        new FileInfo(PathOfIds).Length.Should().Be(JsonIdFile.HeaderSize + (ids.Capacity * sizeof(ulong)), "the grown table replaced the file");
        File.Exists(PathOfIds + ".tmp").Should().BeFalse();
    }

    [Fact]
    public void Candidates_UnknownId_AreUsuallyNone()
    {
        using var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null);
        for (var i = 0; i < 10_000; i++)
        {
            ids.Add(JsonSessionKey.HashOf($"id-{i}"), i + 1);
        }

        var found = new List<long>();
        var hits = 0;
        for (var i = 0; i < 10_000; i++)
        {
            ids.Candidates(JsonSessionKey.HashOf($"other-{i}"), 1, 10_000, found);
            hits += found.Count;
        }

        hits.Should().BeLessThan(3, "a 32-bit fragment makes false candidates rare; each only costs one read");
    }

    [Fact]
    public void Grow_WhileAnotherMappingIsOpen_MarksTheOldFileSupersededAndTheNewOneHasEverySlot()
    {
        using var writer = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null);
        using var other = JsonIdFile.TryOpen(PathOfIds)!;
        var initial = writer.Capacity;

        for (var i = 0; i < 1000; i++)
        {
            writer.Add(JsonSessionKey.HashOf($"id-{i}"), i + 1);
        }

        writer.IndexedThrough = 4242;
        writer.Capacity.Should().BeGreaterThan(initial);
        other.Superseded.Should().BeTrue("another process still mapping the old file must notice at its next lock");
        using var reopened = JsonIdFile.TryOpen(PathOfIds)!;
        reopened.Superseded.Should().BeFalse();
        reopened.Count.Should().Be(1000);
        reopened.IndexedThrough.Should().Be(4242, "the writer's own object follows the new file");
        reopened.Incarnation.Should().Be(Incarnation);
    }

    [Fact]
    public void TryOpen_TruncatedOrForeignFile_ReturnsNull()
    {
        using (var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null))
        {
            ids.Add(1UL << 40, 1);
        }

        using (var file = new FileStream(PathOfIds, FileMode.Open))
        {
            file.SetLength(file.Length - 8);
        }

        JsonIdFile.TryOpen(PathOfIds).Should().BeNull("a truncated table is not used");
        File.WriteAllBytes(PathOfIds, new byte[JsonIdFile.HeaderSize + (256 * 8)]);
        JsonIdFile.TryOpen(PathOfIds).Should().BeNull("a file without the magic is not used");
        File.Delete(PathOfIds);
        JsonIdFile.TryOpen(PathOfIds).Should().BeNull();
    }

    [Fact]
    public void AddAndCandidates_TableFullOfJunkWhileItsCountSaysEmpty_TerminateAndStillFindTheNewId()
    {
        long capacity;
        using (var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null))
        {
            capacity = ids.Capacity;
        }

        var bytes = File.ReadAllBytes(PathOfIds);
        for (var at = JsonIdFile.HeaderSize; at < bytes.Length; at += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), 0xDEAD_0000_0000_0000UL | (uint)at);
        }

        File.WriteAllBytes(PathOfIds, bytes);
        using var damaged = JsonIdFile.TryOpen(PathOfIds)!;
        var found = new List<long>();

        damaged.Candidates(JsonSessionKey.HashOf("m-1"), 1, 1, found);
        damaged.Add(JsonSessionKey.HashOf("m-1"), 1);
        damaged.Candidates(JsonSessionKey.HashOf("m-1"), 1, 1, found);

        found.Should().Contain(1L);
        damaged.Capacity.Should().BeGreaterThan(capacity);
        damaged.Count.Should().Be(capacity + 1, "growth counts the slots there are");
    }

    [Fact]
    public void Checkpoint_RecordsSyncedThroughOnlyAfterTheFlush()
    {
        using var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null);
        ids.Add(JsonSessionKey.HashOf("m-1"), 1);
        ids.IndexedThrough = 100;
        ids.SyncedThrough.Should().Be(0);

        ids.Checkpoint();

        ids.SyncedThrough.Should().Be(100);
    }

    [Fact]
    public void DropUnsyncedIfRebooted_StampOfAnotherBoot_FallsBackToTheCheckpointAndRecounts()
    {
        using (var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null))
        {
            ids.Add(JsonSessionKey.HashOf("m-1"), 1);
            ids.IndexedThrough = 100;
            ids.Checkpoint();
            ids.Add(JsonSessionKey.HashOf("m-2"), 2);
            ids.IndexedThrough = 200;
        }

        // As if the machine rebooted since, and the count of the header page that reached the disk was an old one.
        WriteHeader(JsonIdFile.BootTimeAt, 1);
        WriteHeader(JsonIdFile.BootIdAt, 3);
        WriteHeader(JsonIdFile.CountAt, 0);
        using var reopened = JsonIdFile.TryOpen(PathOfIds)!;

        reopened.DropUnsyncedIfRebooted();

        reopened.IndexedThrough.Should().Be(100, "after a reboot only the checkpointed part is certain");
        reopened.Count.Should().Be(2, "slots that reached the disk after the checkpoint stay; the count is taken from the table");
    }

    [Fact]
    public void DropUnsyncedIfRebooted_SameBoot_TrustsIndexedThrough()
    {
        using (var ids = JsonIdFile.Create(PathOfIds, Incarnation, 0, replacing: null))
        {
            ids.IndexedThrough = 200;
        }

        using var reopened = JsonIdFile.TryOpen(PathOfIds)!;
        reopened.DropUnsyncedIfRebooted();

        reopened.IndexedThrough.Should().Be(200, "without a reboot the page cache kept every write, even a killed writer's");
    }

    private void WriteHeader(int offset, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        using var file = new FileStream(PathOfIds, FileMode.Open, FileAccess.Write);
        file.Position = offset;
        file.Write(bytes);
    }
}

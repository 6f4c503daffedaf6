using System.Buffers.Binary;
using System.Text;
using FluentAssertions;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// Issue #9 items 7 and 6: a sequence once issued is never issued again, whatever happened to messages.jsonl; damaged
/// bytes are kept aside, not destroyed; and one damaged slot of ids.idx never makes a retry look new.
/// </summary>
public sealed class JsonStoreSequenceSurvivalTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Log => _folder.MessagesOf("s-1");

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("deleted")]
    [InlineData("emptied")]
    [InlineData("garbage")]
    [InlineData("garbage-lines")]
    public async Task AppendMessage_AfterTheLogWasLost_ContinuesAboveEveryIssuedSequence(string loss)
    {
        await SeedAsync(20);
        switch (loss)
        {
            case "deleted": File.Delete(Log); break;
            case "emptied": await File.WriteAllBytesAsync(Log, [], Ct); break;
            case "garbage": await File.WriteAllBytesAsync(Log, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray(), Ct); break;
            default: await File.WriteAllTextAsync(Log, string.Concat(Enumerable.Repeat("not a message line\n", 50)), Ct); break;
        }

        using var logs = new CapturingLoggerFactory();
        await using var store = SessionPersistence.Create(_folder.Options(), logs);
        var before = await store.GetSessionAsync("s-1", Ct);
        var next = await store.AddMessageAsync(Message("m-21"), Ct);
        var after = await store.GetSessionAsync("s-1", Ct);

        before!.LastSequence.Should().Be(20, "LastSequence never drops");
        next.Sequence.Should().Be(21, "sequences 1..20 were issued and acknowledged");
        after!.LastSequence.Should().Be(21);
        after.MessageCount.Should().Be(1);
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Sequence).Should().Equal(21);
        (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Degraded);
        logs.Events.Should().Contain(e => e.Id.Id == 3007);
    }

    [Fact]
    public async Task DamagedLastByteOfTheLastLine_IsSetAsideNotReusedAndReportedDegraded()
    {
        await SeedAsync(20);
        var bytes = await File.ReadAllBytesAsync(Log, Ct);
        var lastLineStart = Array.LastIndexOf(bytes, (byte)'\n', bytes.Length - 2) + 1;
        var lastLine = bytes[lastLineStart..^1];
        bytes[^1] = (byte)'x';
        await File.WriteAllBytesAsync(Log, bytes, Ct);

        using var logs = new CapturingLoggerFactory();
        await using var store = SessionPersistence.Create(_folder.Options(), logs);
        var read = await store.GetMessagesAsync("s-1", 100, Ct);
        var next = await store.AddMessageAsync(Message("m-21"), Ct);
        var session = await store.GetSessionAsync("s-1", Ct);

        read.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, 19).Select(i => (long)i));
        next.Sequence.Should().Be(21, "sequence 20 was acknowledged; its damaged line does not free it");
        session!.LastSequence.Should().Be(21);
        session.MessageCount.Should().Be(20, "19 readable lines and the new one");
        var aside = await File.ReadAllBytesAsync(Log + ".damaged", Ct);
        Encoding.UTF8.GetString(aside).Should().Contain(Encoding.UTF8.GetString(lastLine), "damaged bytes are kept, not destroyed");
        (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Degraded);
        logs.Events.Should().Contain(e => e.Id.Id == 3008);
    }

    [Fact]
    public async Task DamagedClosingBraceOfTheLastLine_DoesNotFreeItsSequence()
    {
        await SeedAsync(20);
        var bytes = await File.ReadAllBytesAsync(Log, Ct);
        bytes[^2] = (byte)'#';
        await File.WriteAllBytesAsync(Log, bytes, Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        var next = await store.AddMessageAsync(Message("m-21"), Ct);

        next.Sequence.Should().Be(21);
        (await store.CheckHealthAsync(Ct)).Status.Should().Be(StoreHealthStatus.Degraded);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(100)]
    public async Task AppendMessage_RetryAfterItsIdSlotWasZeroed_ReturnsTheStoredOriginal(int sequence)
    {
        await SeedAsync(100);
        var path = Path.Combine(_folder.FolderOf("s-1"), "ids.idx");
        var table = await File.ReadAllBytesAsync(path, Ct);
        var zeroed = 0;
        for (var at = JsonIdFile.HeaderSize; at < table.Length; at += 8)
        {
            var slot = BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(at));
            if (slot != 0 && (uint)slot == sequence)
            {
                table.AsSpan(at, 8).Clear();
                zeroed++;
            }
        }

        zeroed.Should().Be(1);
        await File.WriteAllBytesAsync(path, table, Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        var retry = await store.AddMessageAsync(Message($"m-{sequence}"), Ct);
        var again = await store.AddMessagesAsync("s-1", Enumerable.Range(1, 100).Select(i => Message($"m-{i}")).ToArray(), Ct);

        retry.Sequence.Should().Be(sequence, "the retry is the stored original");
        again.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, 100).Select(i => (long)i));
        (await store.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(100, "nothing was stored twice");
    }

    [Fact]
    public async Task AppendMessage_RetryAfterARegionOfTheTableWasZeroed_StoresNothingTwice()
    {
        await SeedAsync(100);
        var path = Path.Combine(_folder.FolderOf("s-1"), "ids.idx");
        var table = await File.ReadAllBytesAsync(path, Ct);
        table.AsSpan(JsonIdFile.HeaderSize + 256, 512).Clear();
        await File.WriteAllBytesAsync(path, table, Ct);

        await using var store = SessionPersistence.Create(_folder.Options());
        var again = await store.AddMessagesAsync("s-1", Enumerable.Range(1, 100).Select(i => Message($"m-{i}")).ToArray(), Ct);

        again.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, 100).Select(i => (long)i));
        (await File.ReadAllLinesAsync(Log, Ct)).Should().HaveCount(100);
    }

    private async Task SeedAsync(int count)
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        foreach (var i in Enumerable.Range(1, count))
        {
            await store.AddMessageAsync(Message($"m-{i}"), Ct);
        }
    }

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = "s-1", Sender = "a", Content = $"content of {id}" };
}

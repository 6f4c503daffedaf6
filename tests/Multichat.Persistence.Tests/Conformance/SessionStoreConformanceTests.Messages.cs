using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task AddMessage_FirstMessage_GetsSequenceOne()
    {
        await NewSessionAsync();

        var stored = await Store.AddMessageAsync(Message("s-1", "m-1"), Ct);

        stored.Sequence.Should().Be(1);
    }

    [Fact]
    public virtual async Task AddMessage_Several_GetContiguousSequences()
    {
        await NewSessionAsync();

        var sequences = new List<long>();
        for (var i = 1; i <= 10; i++)
        {
            sequences.Add((await Store.AddMessageAsync(Message("s-1", $"m-{i}"), Ct)).Sequence);
        }

        sequences.Should().Equal(Enumerable.Range(1, 10).Select(i => (long)i));
    }

    [Fact]
    public virtual async Task AddMessage_RoundTripsEveryField()
    {
        await NewSessionAsync();
        var timestamp = new DateTimeOffset(2025, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)).AddTicks(1234567);
        var message = new ChatMessage
        {
            Id = "m-1",
            SessionId = "s-1",
            Sender = "Agent-1",
            Recipient = "Agent-2",
            Content = "Hello \"world\"\n\t— ✓ 🚀 \\ </script>",
            Timestamp = timestamp,
            Metadata = new Dictionary<string, string> { ["model"] = "gpt", ["tokens"] = "12" },
        };

        var stored = await Store.AddMessageAsync(message, Ct);
        var read = (await Store.GetMessagesAsync("s-1", 10, Ct)).Single();

        stored.Should().BeEquivalentTo(message with { Sequence = 1 });
        read.Should().BeEquivalentTo(stored);
        read.Timestamp.Should().Be(timestamp);
        read.Timestamp.Offset.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public virtual async Task AddMessage_NoRecipientAndEmptyContent_RoundTrips()
    {
        await NewSessionAsync();

        await Store.AddMessageAsync(Message("s-1", "m-1", content: ""), Ct);
        var read = (await Store.GetMessagesAsync("s-1", 10, Ct)).Single();

        read.Recipient.Should().BeNull();
        read.Content.Should().BeEmpty();
        read.Metadata.Should().BeEmpty();
    }

    [Fact]
    public virtual async Task AddMessage_DefaultTimestamp_TakesTheStoreClock()
    {
        await NewSessionAsync();
        var before = Clock.GetUtcNow();

        var stored = await Store.AddMessageAsync(Message("s-1", "m-1"), Ct);

        stored.Timestamp.Should().BeOnOrAfter(before).And.BeOnOrBefore(Clock.GetUtcNow());
    }

    [Fact]
    public virtual async Task AddMessage_MissingSession_ThrowsSessionNotFound()
    {
        var act = () => Store.AddMessageAsync(Message("ghost", "m-1"), Ct);

        await act.Should().ThrowAsync<SessionNotFoundException>();
    }

    [Fact]
    public virtual async Task AddMessage_SameIdTwice_ReturnsOriginalAndStoresOnce()
    {
        await NewSessionAsync();
        var first = await Store.AddMessageAsync(Message("s-1", "m-1"), Ct);

        var retried = await Store.AddMessageAsync(Message("s-1", "m-1"), Ct);

        retried.Should().BeEquivalentTo(first);
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Should().ContainSingle();
        (await Store.GetSessionAsync("s-1", Ct))!.LastSequence.Should().Be(1);
    }

    [Fact]
    public virtual async Task AddMessage_SameIdOtherContent_ReturnsStoredOriginal()
    {
        await NewSessionAsync();
        await Store.AddMessageAsync(Message("s-1", "m-1", content: "original"), Ct);

        var retried = await Store.AddMessageAsync(Message("s-1", "m-1", content: "changed"), Ct);

        retried.Content.Should().Be("original");
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Single().Content.Should().Be("original");
    }

    [Fact]
    public virtual async Task AddMessage_SameIdInAnotherSession_IsADifferentMessage()
    {
        await NewSessionAsync("s-1");
        await NewSessionAsync("s-2");

        await Store.AddMessageAsync(Message("s-1", "m-1"), Ct);
        var other = await Store.AddMessageAsync(Message("s-2", "m-1"), Ct);

        other.SessionId.Should().Be("s-2");
        (await Store.GetMessagesAsync("s-2", 10, Ct)).Should().ContainSingle();
    }

    [Fact]
    public virtual async Task AddMessage_UpdatesCountersAndActivityButNotVersion()
    {
        var created = await NewSessionAsync();

        await AppendAsync("s-1", 4);
        var session = await Store.GetSessionAsync("s-1", Ct);

        session!.MessageCount.Should().Be(4);
        session.LastSequence.Should().Be(4);
        session.Version.Should().Be(created.Version);
        session.UpdatedAt.Should().BeAfter(created.UpdatedAt);
    }

    [Fact]
    public virtual async Task AddMessages_Batch_StoresInOrderWithContiguousSequences()
    {
        await NewSessionAsync();
        await Store.AddMessageAsync(Message("s-1", "m-0"), Ct);

        var stored = await Store.AddMessagesAsync("s-1", [Message("s-1", "a"), Message("s-1", "b"), Message("s-1", "c")], Ct);

        stored.Select(m => (m.Id, m.Sequence)).Should().Equal(("a", 2L), ("b", 3L), ("c", 4L));
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("m-0", "a", "b", "c");
    }

    [Fact]
    public virtual async Task AddMessages_OneInvalidMessage_StoresNothing()
    {
        await NewSessionAsync();
        var batch = new[] { Message("s-1", "a"), Message("s-1", "b"), Message("s-1", "bad\u0001id"), Message("s-1", "d") };

        var act = () => Store.AddMessagesAsync("s-1", batch, Ct);

        await act.Should().ThrowAsync<ArgumentException>();
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Should().BeEmpty();
        (await Store.GetSessionAsync("s-1", Ct))!.LastSequence.Should().Be(0);
    }

    [Fact]
    public virtual async Task AddMessages_MessageOfAnotherSession_ThrowsAndStoresNothing()
    {
        await NewSessionAsync("s-1");
        await NewSessionAsync("s-2");

        var act = () => Store.AddMessagesAsync("s-1", [Message("s-1", "a"), Message("s-2", "b")], Ct);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*s-2*");
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Should().BeEmpty();
    }

    [Fact]
    public virtual async Task AddMessages_EmptyBatch_ThrowsArgumentException()
    {
        await NewSessionAsync();

        var act = () => Store.AddMessagesAsync("s-1", [], Ct);

        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public virtual async Task AddMessages_BatchWithStoredIds_ReturnsOriginalsAndStoresOnlyNew()
    {
        await NewSessionAsync();
        var first = await Store.AddMessagesAsync("s-1", [Message("s-1", "a"), Message("s-1", "b")], Ct);

        var second = await Store.AddMessagesAsync("s-1", [Message("s-1", "b"), Message("s-1", "c"), Message("s-1", "a")], Ct);

        second.Select(m => (m.Id, m.Sequence)).Should().Equal(("b", 2L), ("c", 3L), ("a", 1L));
        second[0].Should().BeEquivalentTo(first[1]);
        ShouldBeGapless(await ReadAllAsync(Store, "s-1"));
        (await ReadAllAsync(Store, "s-1")).Should().HaveCount(3);
    }

    [Fact]
    public virtual async Task AddMessages_BatchRepeatingAnId_StoresItOnce()
    {
        await NewSessionAsync();

        var stored = await Store.AddMessagesAsync("s-1", [Message("s-1", "a", content: "1"), Message("s-1", "b"), Message("s-1", "a", content: "2")], Ct);

        stored.Select(m => m.Sequence).Should().Equal(1, 2, 1);
        stored[2].Content.Should().Be("1");
        (await ReadAllAsync(Store, "s-1")).Select(m => m.Id).Should().Equal("a", "b");
    }

    [Fact]
    public virtual async Task AddMessage_ManyConcurrentTasks_SequencesGaplessWithoutDuplicates()
    {
        await NewSessionAsync();
        const int Writers = 8, PerWriter = 40;

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                await Store.AddMessageAsync(Message("s-1", $"w{w}-{i}"), Ct);
            }
        }));
        await Task.WhenAll(writers);

        var all = await ReadAllAsync(Store, "s-1");
        all.Should().HaveCount(Writers * PerWriter);
        ShouldBeGapless(all);
        (await Store.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(Writers * PerWriter);
    }

    [Fact]
    public virtual async Task AddMessages_ConcurrentBatches_EachBatchContiguous()
    {
        await NewSessionAsync();

        var batches = Enumerable.Range(0, 6).Select(b => Task.Run(() =>
            Store.AddMessagesAsync("s-1", Enumerable.Range(0, 10).Select(i => Message("s-1", $"b{b}-{i}")).ToArray(), Ct)));
        var results = await Task.WhenAll(batches);

        foreach (var stored in results)
        {
            var sequences = stored.Select(m => m.Sequence).ToArray();
            sequences.Should().Equal(Enumerable.Range(0, 10).Select(i => sequences[0] + i));
        }

        ShouldBeGapless(await ReadAllAsync(Store, "s-1"));
    }

    [Fact]
    public virtual async Task AddMessage_ConcurrentRetriesOfOneId_StoreItOnce()
    {
        await NewSessionAsync();

        var retries = Enumerable.Range(0, 10).Select(_ => Task.Run(() => Store.AddMessageAsync(Message("s-1", "same"), Ct)));
        var results = await Task.WhenAll(retries);

        results.Select(m => m.Sequence).Should().AllBeEquivalentTo(1L);
        (await ReadAllAsync(Store, "s-1")).Should().ContainSingle();
    }
}

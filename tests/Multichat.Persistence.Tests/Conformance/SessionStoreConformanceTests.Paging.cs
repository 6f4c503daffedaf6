using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task GetMessages_Latest_ReturnsNewestOldestFirst()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 30);

        var latest = await Store.GetMessagesAsync("s-1", limit: 5, Ct);

        latest.Select(m => m.Sequence).Should().Equal(26, 27, 28, 29, 30);
    }

    [Fact]
    public virtual async Task GetMessages_ForwardPaging_VisitsEveryMessageOnceThenEnds()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 23);

        var seen = new List<long>();
        MessageQuery? query = new() { Limit = 5 };
        var pages = 0;
        while (query is not null)
        {
            var page = await Store.GetMessagesAsync("s-1", query, Ct);
            seen.AddRange(page.Messages.Select(m => m.Sequence));
            query = page.Next;
            pages++;
        }

        seen.Should().Equal(Enumerable.Range(1, 23).Select(i => (long)i));
        pages.Should().Be(5);
    }

    [Fact]
    public virtual async Task GetMessages_BackwardPaging_VisitsEveryMessageNewestFirstThenEnds()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 20);

        var seen = new List<long>();
        MessageQuery? query = new() { Limit = 5, Order = MessageOrder.NewestFirst };
        var pages = 0;
        while (query is not null)
        {
            var page = await Store.GetMessagesAsync("s-1", query, Ct);
            seen.AddRange(page.Messages.Select(m => m.Sequence));
            query = page.Next;
            pages++;
        }

        seen.Should().Equal(Enumerable.Range(1, 20).Reverse().Select(i => (long)i));
        pages.Should().Be(4, "a page that is exactly full and last has no next page");
    }

    [Fact]
    public virtual async Task GetMessages_BeforeSequence_PagesBackFromThere()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 100);

        var page = await Store.GetMessagesAsync("s-1", new MessageQuery { BeforeSequence = 51, Order = MessageOrder.NewestFirst, Limit = 3 }, Ct);

        page.Messages.Select(m => m.Sequence).Should().Equal(50, 49, 48);
        page.Next.Should().BeEquivalentTo(new MessageQuery { BeforeSequence = 48, Order = MessageOrder.NewestFirst, Limit = 3 });
    }

    [Fact]
    public virtual async Task GetMessages_BothBounds_AreExclusive()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 20);

        var forward = await Store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = 5, BeforeSequence = 9 }, Ct);
        var backward = await Store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = 5, BeforeSequence = 9, Order = MessageOrder.NewestFirst }, Ct);

        forward.Messages.Select(m => m.Sequence).Should().Equal(6, 7, 8);
        forward.HasMore.Should().BeFalse();
        backward.Messages.Select(m => m.Sequence).Should().Equal(8, 7, 6);
    }

    [Fact]
    public virtual async Task GetMessages_BoundsOutsideTheHistory_ReturnEmptyPages()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 5);

        (await Store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = 5 }, Ct)).Messages.Should().BeEmpty();
        (await Store.GetMessagesAsync("s-1", new MessageQuery { BeforeSequence = 1, Order = MessageOrder.NewestFirst }, Ct)).Messages.Should().BeEmpty();
        (await Store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = 1000 }, Ct)).Messages.Should().BeEmpty();
    }

    [Fact]
    public virtual async Task GetMessages_EmptySession_ReturnsEmptyPageWithoutNext()
    {
        await NewSessionAsync();

        var page = await Store.GetMessagesAsync("s-1", new MessageQuery(), Ct);

        page.Messages.Should().BeEmpty();
        page.Next.Should().BeNull();
    }

    [Fact]
    public virtual async Task GetMessages_MissingSession_ThrowsSessionNotFound()
    {
        var act = () => Store.GetMessagesAsync("ghost", new MessageQuery(), Ct);

        await act.Should().ThrowAsync<SessionNotFoundException>();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(MessageQuery.MaxLimit + 1)]
    public virtual async Task GetMessages_LimitOutOfRange_ThrowsArgumentOutOfRange(int limit)
    {
        await NewSessionAsync();

        var act = () => Store.GetMessagesAsync("s-1", new MessageQuery { Limit = limit }, Ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Fact]
    public virtual async Task TrimMessages_KeepsLatestWithoutRenumbering()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 10);

        var removed = await Store.TrimMessagesAsync("s-1", 4, Ct);
        var next = await Store.AddMessageAsync(Message("s-1", "after"), Ct);

        removed.Should().Be(6);
        next.Sequence.Should().Be(11);
        (await ReadAllAsync(Store, "s-1")).Select(m => m.Sequence).Should().Equal(7, 8, 9, 10, 11);
        var session = await Store.GetSessionAsync("s-1", Ct);
        session!.MessageCount.Should().Be(5);
        session.LastSequence.Should().Be(11);
    }

    [Fact]
    public virtual async Task TrimMessages_TrimmedIdMayBeAddedAgain()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 3);
        await Store.TrimMessagesAsync("s-1", 0, Ct);

        var again = await Store.AddMessageAsync(Message("s-1", "m-1"), Ct);

        again.Sequence.Should().Be(4, "idempotency covers the messages a session holds; sequences never go back");
    }

    [Fact]
    public virtual async Task AddMessages_WithMaxMessagesPerSession_TrimsOldestInTheSameAppend()
    {
        var store = await OpenAsync(o => o.MaxMessagesPerSession = 5);
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);

        for (var i = 1; i <= 8; i++)
        {
            await store.AddMessageAsync(Message("s-1", $"m-{i}"), Ct);
        }

        await store.AddMessagesAsync("s-1", [Message("s-1", "x"), Message("s-1", "y")], Ct);

        (await ReadAllAsync(store, "s-1")).Select(m => m.Sequence).Should().Equal(6, 7, 8, 9, 10);
        (await store.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(5);
    }
}

using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>Extreme sequence bounds: every store answers them alike, without overflow.</summary>
public abstract partial class SessionStoreConformanceTests
{
    public static TheoryData<long?, long?, MessageOrder, long[]> ExtremeBounds => new()
    {
        { long.MaxValue, null, MessageOrder.OldestFirst, [] },
        { long.MaxValue, null, MessageOrder.NewestFirst, [] },
        { long.MaxValue - 1, null, MessageOrder.OldestFirst, [] },
        { null, long.MaxValue, MessageOrder.OldestFirst, [1, 2, 3, 4, 5] },
        { null, long.MaxValue, MessageOrder.NewestFirst, [5, 4, 3, 2, 1] },
        { 0, long.MaxValue, MessageOrder.OldestFirst, [1, 2, 3, 4, 5] },
        { null, 0, MessageOrder.OldestFirst, [] },
        { null, 1, MessageOrder.NewestFirst, [] },
        { 0, 1, MessageOrder.OldestFirst, [] },
        { 2, 3, MessageOrder.OldestFirst, [] },
        { 3, 2, MessageOrder.OldestFirst, [] },
        { 4, null, MessageOrder.OldestFirst, [5] },
        { 5, null, MessageOrder.OldestFirst, [] },
        { 6, null, MessageOrder.NewestFirst, [] },
        { null, 6, MessageOrder.NewestFirst, [5, 4, 3, 2, 1] },
    };

    [Theory]
    [MemberData(nameof(ExtremeBounds))]
    public virtual async Task GetMessages_ExtremeBounds_ReturnWhatLiesStrictlyBetween(long? after, long? before, MessageOrder order, long[] expected)
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 5);

        var page = await Store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = after, BeforeSequence = before, Order = order }, Ct);

        page.Messages.Select(m => m.Sequence).Should().Equal(expected);
    }

    [Theory]
    [InlineData(long.MaxValue, MessageOrder.OldestFirst)]
    [InlineData(long.MaxValue, MessageOrder.NewestFirst)]
    public virtual async Task GetMessages_ExtremeBoundsOnEmptySession_ReturnNothing(long after, MessageOrder order)
    {
        await NewSessionAsync();

        var page = await Store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = after, Order = order }, Ct);

        page.Messages.Should().BeEmpty();
        page.Next.Should().BeNull();
    }
}

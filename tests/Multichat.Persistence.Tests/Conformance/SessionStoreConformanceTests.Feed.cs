using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>
/// The change feed (<see cref="SessionPersistence.WatchMessagesAsync"/>): the stored messages after the cursor, then
/// new ones as any instance stores them, none skipped or repeated, none lost to a slow consumer; trimmed messages and
/// a session's new life are reported, never skipped silently; cancellation ends it.
/// </summary>
public abstract partial class SessionStoreConformanceTests
{
    /// <summary>How long a feed test waits for a message before it fails (a safety net, not a timing assertion).</summary>
    private static readonly TimeSpan FeedPatience = TimeSpan.FromSeconds(30);

    [Fact]
    public virtual async Task Watch_CatchesUpThenDeliversNewMessages_InOrder_NoneRepeated()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 5);
        await using var feed = Store.WatchMessagesAsync("s-1", afterSequence: 2, Ct).GetAsyncEnumerator(Ct);

        (await NextAsync(feed, 3)).Select(m => m.Sequence).Should().Equal(3, 4, 5);
        var pending = NextAsync(feed, 3);
        await Store.AddMessageAsync(Message("s-1", "live-1"), Ct);
        await Store.AddMessagesAsync("s-1", [Message("s-1", "live-2"), Message("s-1", "live-3")], Ct);

        (await pending).Select(m => (m.Sequence, m.Id)).Should().Equal((6, "live-1"), (7, "live-2"), (8, "live-3"));
    }

    [Fact]
    public virtual async Task Watch_ASlowConsumer_LosesNothing()
    {
        await NewSessionAsync();
        await using var feed = Store.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var first = NextAsync(feed, 1);
        await AppendAsync("s-1", 1, "first-");
        await first;

        // Stored while nobody reads the feed: more than a page of it.
        await AppendAsync("s-1", 700);

        var rest = await NextAsync(feed, 700);
        rest.Select(m => m.Sequence).Should().Equal(Enumerable.Range(2, 700).Select(i => (long)i));
    }

    [Fact]
    public virtual async Task Watch_MessagesFromASecondInstance_Arrive()
    {
        RequireSharedStorage();
        await NewSessionAsync();
        var writer = await OpenAsync();
        await using var feed = Store.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        var pending = NextAsync(feed, 3);

        for (var i = 1; i <= 3; i++)
        {
            await writer.AddMessageAsync(Message("s-1", $"other-{i}"), Ct);
        }

        (await pending).Select(m => m.Id).Should().Equal("other-1", "other-2", "other-3");
    }

    [Fact]
    public virtual async Task Watch_MissingSession_Throws()
    {
        var watch = async () =>
        {
            await foreach (var _ in Store.WatchMessagesAsync("missing", cancellationToken: Ct))
            {
            }
        };

        await watch.Should().ThrowAsync<SessionNotFoundException>();
    }

    [Fact]
    public virtual void Watch_BadArguments_FailAtTheCall()
    {
        var negative = () => Store.WatchMessagesAsync("s-1", afterSequence: -1, Ct);
        var badId = () => Store.WatchMessagesAsync("", cancellationToken: Ct);

        negative.Should().Throw<ArgumentOutOfRangeException>();
        badId.Should().Throw<ArgumentException>();
    }

    [Fact]
    public virtual async Task Watch_MessagesTrimmedBeforeTheyWereRead_AreReported()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 10);
        await Store.TrimMessagesAsync("s-1", 4, Ct);

        var watch = async () =>
        {
            await foreach (var _ in Store.WatchMessagesAsync("s-1", afterSequence: 3, Ct))
            {
            }
        };

        var gap = (await watch.Should().ThrowAsync<MessageFeedGapException>()).Which;
        (gap.SessionId, gap.AfterSequence, gap.ResumeAfterSequence, gap.Reason).Should().Be(("s-1", 3L, 6L, FeedGapReason.MessagesRemoved));
        (await NextAsync(Store.WatchMessagesAsync("s-1", gap.ResumeAfterSequence, Ct).GetAsyncEnumerator(Ct), 4))
            .Select(m => m.Sequence).Should().Equal(7, 8, 9, 10);
    }

    [Fact]
    public virtual async Task Watch_SessionDeletedWhileWatched_EndsTheFeed()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 1);
        await using var feed = Store.WatchMessagesAsync("s-1", cancellationToken: Ct).GetAsyncEnumerator(Ct);
        await NextAsync(feed, 1);
        var next = feed.MoveNextAsync().AsTask();

        await Store.DeleteSessionAsync("s-1", Ct);
        await Store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await Store.AddMessageAsync(Message("s-1", "new-life"), Ct);

        // Woken by the delete, it finds the session gone; woken later, it finds another life: either way it says so.
        var ended = async () => await next.WaitAsync(FeedPatience, Ct);
        var thrown = (await ended.Should().ThrowAsync<SessionPersistenceException>()).Which;
        thrown.Should().Match<SessionPersistenceException>(e =>
            e is SessionNotFoundException || (e is MessageFeedGapException && ((MessageFeedGapException)e).Reason == FeedGapReason.SessionReplaced));
    }

    [Fact]
    public virtual async Task Watch_Cancelled_EndsPromptly()
    {
        await NewSessionAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var feed = Store.WatchMessagesAsync("s-1", cancellationToken: cancel.Token).GetAsyncEnumerator(cancel.Token);
        var next = feed.MoveNextAsync().AsTask();

        await cancel.CancelAsync();

        var waited = async () => await next.WaitAsync(FeedPatience, Ct);
        await waited.Should().ThrowAsync<OperationCanceledException>();
    }

    /// <summary>The next <paramref name="count"/> messages of a feed.</summary>
    private static async Task<List<ChatMessage>> NextAsync(IAsyncEnumerator<ChatMessage> feed, int count)
    {
        var messages = new List<ChatMessage>(count);
        while (messages.Count < count)
        {
            (await feed.MoveNextAsync().AsTask().WaitAsync(FeedPatience, Ct)).Should().BeTrue();
            messages.Add(feed.Current);
        }

        return messages;
    }
}

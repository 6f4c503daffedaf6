using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>The inbox (messages addressed to a participant across its sessions, after its cursors) and the read state
/// a listing carries per session.</summary>
public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task Inbox_HoldsWhatIsAddressedToTheParticipant_AfterItsCursors_OldestFirst()
    {
        await Store.CreateSessionAsync("a", ["Agent-1", "Agent-2", "Agent-3"], cancellationToken: Ct);
        await Store.CreateSessionAsync("b", ["Agent-2", "Agent-3"], cancellationToken: Ct);
        await Store.CreateSessionAsync("c", ["Agent-1", "Agent-3"], cancellationToken: Ct);
        await Store.AddMessageAsync(Addressed("a", "a-1", "Agent-1", "Agent-2"), Ct);
        await Store.AddMessageAsync(Addressed("b", "b-1", "Agent-3", null), Ct);
        await Store.AddMessageAsync(Addressed("a", "a-2", "Agent-1", "Agent-3"), Ct);
        await Store.AddMessageAsync(Addressed("c", "c-1", "Agent-1", "Agent-3"), Ct);
        await Store.AddMessageAsync(Addressed("a", "a-3", "Agent-2", null), Ct);
        await Store.AddMessageAsync(Addressed("a", "a-4", "Agent-3", "Agent-2"), Ct);

        var inbox = await Store.GetInboxAsync("Agent-2", cancellationToken: Ct);

        // a-3 is its own and reads a-1 and a-2 (sending reads what came before); c is not its session.
        inbox.Messages.Select(m => m.Id).Should().Equal("b-1", "a-4");
        inbox.ContinuationToken.Should().BeNull();
        await Store.MarkReadAsync("b", "Agent-2", 1, Ct);
        (await Store.GetInboxAsync("Agent-2", cancellationToken: Ct)).Messages.Select(m => m.Id).Should().Equal("a-4");
        (await Store.GetInboxAsync("Agent-3", cancellationToken: Ct)).Messages.Select(m => m.Id).Should().Equal(["c-1"], "its a-4 and b-1 read what came before them");
        (await Store.GetInboxAsync("Agent-1", cancellationToken: Ct)).Messages.Select(m => m.Id).Should().Equal(["a-3"], "a-4 is for Agent-2 only");
    }

    [Fact]
    public virtual async Task Inbox_PagesWithAToken_NoneRepeatedOrSkipped()
    {
        foreach (var session in new[] { "a", "b", "c" })
        {
            await Store.CreateSessionAsync(session, ["Agent-1", "Agent-2"], cancellationToken: Ct);
        }

        var expected = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            var session = "abc"[i % 3].ToString();
            await Store.AddMessageAsync(Addressed(session, $"m-{i}", "Agent-1", i % 4 == 0 ? "Agent-9" : "Agent-2"), Ct);
            if (i % 4 != 0)
            {
                expected.Add($"m-{i}");
            }
        }

        var read = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Store.GetInboxAsync("Agent-2", new InboxQuery { Limit = 4, ContinuationToken = token }, Ct);
            page.Messages.Should().HaveCountLessThanOrEqualTo(4);
            read.AddRange(page.Messages.Select(m => m.Id));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 20);

        read.Should().Equal(expected, "oldest first across sessions, each once");
    }

    [Fact]
    public virtual async Task Inbox_BadArguments_Throw()
    {
        var badToken = () => Store.GetInboxAsync("Agent-2", new InboxQuery { ContinuationToken = "not-a-token" }, Ct);
        var badLimit = () => Store.GetInboxAsync("Agent-2", new InboxQuery { Limit = 0 }, Ct);
        var badParticipant = () => Store.GetInboxAsync("", cancellationToken: Ct);

        await badToken.Should().ThrowAsync<ArgumentException>().WithMessage("*continuation token*");
        await badLimit.Should().ThrowAsync<ArgumentOutOfRangeException>();
        await badParticipant.Should().ThrowAsync<ArgumentException>();
        (await Store.GetInboxAsync("Nobody", cancellationToken: Ct)).Messages.Should().BeEmpty();
    }

    [Fact]
    public virtual async Task ListSessions_WithReadState_CarriesEachSessionsUnreadCount()
    {
        await Store.CreateSessionAsync("a", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await Store.CreateSessionAsync("b", ["Agent-1", "Agent-2"], cancellationToken: Ct);
        await Store.CreateSessionAsync("other", ["Agent-1"], cancellationToken: Ct);
        await AppendAsync("a", 3);
        await AppendAsync("b", 2);
        await Store.MarkReadAsync("a", "Agent-2", 1, Ct);

        var page = await Store.ListSessionsAsync(new SessionQuery { Participant = "Agent-2", IncludeReadState = true }, Ct);

        page.Sessions.Select(s => s.SessionId).Should().Equal("b", "a");
        page.ReadStates!["a"].Should().Be(new ReadState("a", "Agent-2", 1, 2, 2));
        page.ReadStates["b"].Should().Be(new ReadState("b", "Agent-2", 0, 2, 1));
        (await Store.ListSessionsAsync(new SessionQuery { Participant = "Agent-2" }, Ct)).ReadStates.Should().BeNull();
        var withoutParticipant = () => Store.ListSessionsAsync(new SessionQuery { IncludeReadState = true }, Ct);
        await withoutParticipant.Should().ThrowAsync<ArgumentException>().WithMessage("*Participant*");
    }

    private static ChatMessage Addressed(string sessionId, string id, string sender, string? recipient) =>
        new() { Id = id, SessionId = sessionId, Sender = sender, Recipient = recipient, Content = $"chat-text:{id}" };
}

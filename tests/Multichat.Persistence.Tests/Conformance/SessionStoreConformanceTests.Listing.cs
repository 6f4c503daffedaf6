using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task ListSessions_OrdersByMostRecentActivity()
    {
        await NewSessionAsync("a");
        await NewSessionAsync("b");
        await NewSessionAsync("c");
        await Store.AddMessageAsync(Message("a", "m-1"), Ct);

        var page = await Store.ListSessionsAsync(new SessionQuery(), Ct);

        page.Sessions.Select(s => s.SessionId).Should().Equal("a", "c", "b");
        page.ContinuationToken.Should().BeNull();
    }

    [Fact]
    public virtual async Task ListSessions_ByParticipant_ReturnsOnlyTheirs()
    {
        await NewSessionAsync("s-1", "Alice", "Bob");
        await NewSessionAsync("s-2", "Bob", "Carol");
        await NewSessionAsync("s-3", "Carol");
        await NewSessionAsync("s-4", "alice");

        var bob = await Store.ListSessionsAsync(new SessionQuery { Participant = "Bob" }, Ct);
        var alice = await Store.ListSessionsAsync(new SessionQuery { Participant = "Alice" }, Ct);

        bob.Sessions.Select(s => s.SessionId).Should().Equal("s-2", "s-1");
        alice.Sessions.Select(s => s.SessionId).Should().Equal("s-1");
    }

    [Fact]
    public virtual async Task ListSessions_AcrossPages_ListsEverySessionOnceInOrder()
    {
        for (var i = 0; i < 23; i++)
        {
            await NewSessionAsync($"s-{i:D2}", i % 2 == 0 ? "even" : "odd");
        }

        var all = new List<string>();
        var query = new SessionQuery { Limit = 5 };
        var pages = 0;
        while (true)
        {
            var page = await Store.ListSessionsAsync(query, Ct);
            all.AddRange(page.Sessions.Select(s => s.SessionId));
            pages++;
            if (page.ContinuationToken is null)
            {
                break;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }

        all.Should().Equal(Enumerable.Range(0, 23).Reverse().Select(i => $"s-{i:D2}"));
        pages.Should().Be(5);
    }

    [Fact]
    public virtual async Task ListSessions_ByParticipantAcrossPages_ListsEachOfTheirsOnce()
    {
        for (var i = 0; i < 30; i++)
        {
            await NewSessionAsync($"s-{i:D2}", i % 3 == 0 ? "x" : "y");
        }

        var all = new List<string>();
        var query = new SessionQuery { Participant = "x", Limit = 4 };
        while (true)
        {
            var page = await Store.ListSessionsAsync(query, Ct);
            all.AddRange(page.Sessions.Select(s => s.SessionId));
            if (page.ContinuationToken is null)
            {
                break;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }

        all.Should().Equal(Enumerable.Range(0, 30).Where(i => i % 3 == 0).Reverse().Select(i => $"s-{i:D2}"));
    }

    [Fact]
    public virtual async Task ListSessions_UpdatedAfterAndBefore_FilterByActivity()
    {
        var a = await NewSessionAsync("a");
        var b = await NewSessionAsync("b");
        var c = await NewSessionAsync("c");

        var page = await Store.ListSessionsAsync(new SessionQuery { UpdatedAfter = a.UpdatedAt, UpdatedBefore = c.UpdatedAt }, Ct);

        page.Sessions.Select(s => s.SessionId).Should().Equal("b");
        b.UpdatedAt.Should().BeAfter(a.UpdatedAt);
    }

    [Fact]
    public virtual async Task ListSessions_DeletedSession_IsNotListed()
    {
        await NewSessionAsync("a", "p");
        await NewSessionAsync("b", "p");
        await Store.DeleteSessionAsync("a", Ct);

        (await Store.ListSessionsAsync(new SessionQuery(), Ct)).Sessions.Select(s => s.SessionId).Should().Equal("b");
        (await Store.ListSessionsAsync(new SessionQuery { Participant = "p" }, Ct)).Sessions.Select(s => s.SessionId).Should().Equal("b");
    }

    [Fact]
    public virtual async Task ListSessions_ParticipantRemovedByUpdate_IsNoLongerListedForThem()
    {
        var created = await NewSessionAsync("a", "p", "q");
        await Store.UpdateSessionAsync(created with { Participants = ["q"] }, Ct);

        (await Store.ListSessionsAsync(new SessionQuery { Participant = "p" }, Ct)).Sessions.Should().BeEmpty();
        (await Store.ListSessionsAsync(new SessionQuery { Participant = "q" }, Ct)).Sessions.Should().ContainSingle();
    }

    [Fact]
    public virtual async Task ListSessions_ForeignContinuationToken_ThrowsArgumentException()
    {
        var act = () => Store.ListSessionsAsync(new SessionQuery { ContinuationToken = "not-a-token" }, Ct);

        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public virtual async Task ListSessions_EmptyStore_ReturnsEmptyPage()
    {
        var page = await Store.ListSessionsAsync(cancellationToken: Ct);

        page.Sessions.Should().BeEmpty();
        page.ContinuationToken.Should().BeNull();
    }

    [Fact]
    public virtual async Task ListSessions_EqualActivity_BreaksTiesByCodePointOnEveryPage()
    {
        // Ordinal UTF-16 order puts U+10000 and above (surrogates) before U+E000..U+FFFF; UTF-8 byte order, which
        // SQLite and Redis use, puts them after. Every store follows the code point order.
        Clock.AutoAdvanceAmount = TimeSpan.Zero;
        string[] newestFirst = ["a\U0001F600", "a\U00010000", "a\uFFFD", "a\uE000", "a\u00E9", "aZ", "a"];
        foreach (var id in newestFirst.Reverse())
        {
            await NewSessionAsync(id);
        }

        var listed = new List<string>();
        SessionQuery? query = new() { Limit = 2 };
        while (query is not null)
        {
            var page = await Store.ListSessionsAsync(query, Ct);
            listed.AddRange(page.Sessions.Select(s => s.SessionId));
            query = page.ContinuationToken is null ? null : query with { ContinuationToken = page.ContinuationToken };
        }

        listed.Should().Equal(newestFirst);
    }
}

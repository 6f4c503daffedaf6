using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task CreateSession_NewId_ReturnsVersionOneWithZeroCounters()
    {
        var created = await Store.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], "Planning", new Dictionary<string, string> { ["topic"] = "x" }, Ct);

        created.SessionId.Should().Be("s-1");
        created.Participants.Should().Equal("Agent-1", "Agent-2");
        created.Title.Should().Be("Planning");
        created.Metadata.Should().Equal(new Dictionary<string, string> { ["topic"] = "x" });
        created.Version.Should().Be(1);
        created.MessageCount.Should().Be(0);
        created.LastSequence.Should().Be(0);
        created.CreatedAt.Should().Be(created.UpdatedAt);
        created.CreatedAt.Offset.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public virtual async Task CreateSession_ExistingId_ThrowsSessionAlreadyExists()
    {
        await NewSessionAsync("s-1");

        var act = () => Store.CreateSessionAsync("s-1", ["Other"], cancellationToken: Ct);

        await act.Should().ThrowAsync<SessionAlreadyExistsException>();
        (await Store.GetSessionAsync("s-1", Ct))!.Participants.Should().Equal("Agent-1", "Agent-2");
    }

    [Fact]
    public virtual async Task GetSession_Missing_ReturnsNull()
    {
        (await Store.GetSessionAsync("nope", Ct)).Should().BeNull();
    }

    [Fact]
    public virtual async Task GetSession_AfterCreate_RoundTripsEveryField()
    {
        var created = await Store.CreateSessionAsync(
            "s-1", ["Zed", "Alice", "Bob"], "Title ✓", new Dictionary<string, string> { ["a"] = "1", ["b"] = "line\nbreak" }, Ct);

        var read = await Store.GetSessionAsync("s-1", Ct);

        read.Should().BeEquivalentTo(created);
        read!.Participants.Should().Equal("Zed", "Alice", "Bob");
    }

    [Fact]
    public virtual async Task UpdateSession_CurrentVersion_IncrementsVersionAndReplacesFields()
    {
        var created = await NewSessionAsync();

        var updated = await Store.UpdateSessionAsync(
            created with { Title = "New", Participants = ["Agent-1", "Agent-3"], Metadata = new Dictionary<string, string> { ["k"] = "v" } }, Ct);

        updated.Version.Should().Be(2);
        updated.Title.Should().Be("New");
        updated.Participants.Should().Equal("Agent-1", "Agent-3");
        updated.UpdatedAt.Should().BeAfter(created.UpdatedAt);
        updated.CreatedAt.Should().Be(created.CreatedAt);
        (await Store.GetSessionAsync("s-1", Ct)).Should().BeEquivalentTo(updated);
    }

    [Fact]
    public virtual async Task UpdateSession_StaleVersion_ThrowsConcurrencyConflictAndKeepsStored()
    {
        var created = await NewSessionAsync();
        var first = await Store.UpdateSessionAsync(created with { Title = "first" }, Ct);

        var act = () => Store.UpdateSessionAsync(created with { Title = "stale" }, Ct);

        var thrown = await act.Should().ThrowAsync<ConcurrencyConflictException>();
        thrown.Which.ExpectedVersion.Should().Be(1);
        thrown.Which.ActualVersion.Should().Be(2);
        (await Store.GetSessionAsync("s-1", Ct)).Should().BeEquivalentTo(first);
    }

    [Fact]
    public virtual async Task UpdateSession_Missing_ThrowsSessionNotFound()
    {
        var act = () => Store.UpdateSessionAsync(new ChatSession { SessionId = "ghost", Version = 1 }, Ct);

        await act.Should().ThrowAsync<SessionNotFoundException>();
    }

    [Fact]
    public virtual async Task UpdateSession_ConcurrentUpdatesOfOneVersion_ExactlyOneWins()
    {
        var created = await NewSessionAsync();

        var attempts = Enumerable.Range(0, 8).Select(async i =>
        {
            await Task.Yield();
            try
            {
                await Store.UpdateSessionAsync(created with { Title = $"t{i}" }, Ct);
                return true;
            }
            catch (ConcurrencyConflictException)
            {
                return false;
            }
        });
        var outcomes = await Task.WhenAll(attempts);

        outcomes.Count(won => won).Should().Be(1);
        (await Store.GetSessionAsync("s-1", Ct))!.Version.Should().Be(2);
    }

    [Fact]
    public virtual async Task UpdateSession_DoesNotTouchMessageCounters()
    {
        var created = await NewSessionAsync();
        await AppendAsync("s-1", 3);
        var current = await Store.GetSessionAsync("s-1", Ct);

        var updated = await Store.UpdateSessionAsync(current! with { Title = "x", MessageCount = 99, LastSequence = 99 }, Ct);

        updated.MessageCount.Should().Be(3);
        updated.LastSequence.Should().Be(3);
        updated.Version.Should().Be(created.Version + 1);
    }

    [Fact]
    public virtual async Task DeleteSession_Existing_RemovesSessionAndMessages()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 5);

        (await Store.DeleteSessionAsync("s-1", Ct)).Should().BeTrue();

        (await Store.GetSessionAsync("s-1", Ct)).Should().BeNull();
        var read = () => Store.GetMessagesAsync("s-1", 10, Ct);
        await read.Should().ThrowAsync<SessionNotFoundException>();
    }

    [Fact]
    public virtual async Task DeleteSession_ThenRecreate_StartsAgainAtSequenceOne()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 5);
        await Store.DeleteSessionAsync("s-1", Ct);

        await NewSessionAsync();
        var first = await Store.AddMessageAsync(Message("s-1", "m-1"), Ct);

        first.Sequence.Should().Be(1);
        (await Store.GetMessagesAsync("s-1", 50, Ct)).Should().ContainSingle();
    }

    [Fact]
    public virtual async Task DeleteSession_Missing_ReturnsFalse()
    {
        (await Store.DeleteSessionAsync("nope", Ct)).Should().BeFalse();
    }
}

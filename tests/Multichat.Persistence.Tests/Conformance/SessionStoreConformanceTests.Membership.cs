using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>Adding and removing participants (version-checked) and <see cref="SessionPersistenceOptions.RequireParticipantSender"/>.</summary>
public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task AddAndRemoveParticipant_ChangeTheSession_AndRepeatingChangesNothing()
    {
        var created = await NewSessionAsync();

        var added = await Store.AddParticipantAsync("s-1", "Agent-3", cancellationToken: Ct);
        var again = await Store.AddParticipantAsync("s-1", "Agent-3", cancellationToken: Ct);
        var removed = await Store.RemoveParticipantAsync("s-1", "Agent-1", cancellationToken: Ct);
        var removedAgain = await Store.RemoveParticipantAsync("s-1", "Agent-1", cancellationToken: Ct);

        added.Participants.Should().Equal("Agent-1", "Agent-2", "Agent-3");
        added.Version.Should().Be(created.Version + 1);
        again.Version.Should().Be(added.Version, "a participant already there changes nothing");
        removed.Participants.Should().Equal("Agent-2", "Agent-3");
        removedAgain.Version.Should().Be(removed.Version);
        (await Store.GetSessionAsync("s-1", Ct))!.Participants.Should().Equal("Agent-2", "Agent-3");
        (await Store.ListSessionsAsync(new SessionQuery { Participant = "Agent-3" }, Ct)).Sessions.Should().ContainSingle();
        (await Store.ListSessionsAsync(new SessionQuery { Participant = "Agent-1" }, Ct)).Sessions.Should().BeEmpty();
    }

    [Fact]
    public virtual async Task AddParticipant_WithAStaleVersion_IsRefused_AndChangesNothing()
    {
        var created = await NewSessionAsync();
        await Store.AddParticipantAsync("s-1", "Agent-3", cancellationToken: Ct);

        var stale = () => Store.AddParticipantAsync("s-1", "Agent-4", expectedVersion: created.Version, Ct);
        var staleRemove = () => Store.RemoveParticipantAsync("s-1", "Agent-1", expectedVersion: created.Version, Ct);

        (await stale.Should().ThrowAsync<ConcurrencyConflictException>()).Which.ExpectedVersion.Should().Be(created.Version);
        await staleRemove.Should().ThrowAsync<ConcurrencyConflictException>();
        (await Store.GetSessionAsync("s-1", Ct))!.Participants.Should().Equal("Agent-1", "Agent-2", "Agent-3");
        (await Store.AddParticipantAsync("s-1", "Agent-4", expectedVersion: created.Version + 1, Ct)).Participants.Should().EndWith("Agent-4");
    }

    [Fact]
    public virtual async Task ConcurrentAdds_AllLand()
    {
        await NewSessionAsync();

        await Task.WhenAll(Enumerable.Range(3, 8).Select(i => Store.AddParticipantAsync("s-1", $"Agent-{i}", cancellationToken: Ct)));

        (await Store.GetSessionAsync("s-1", Ct))!.Participants.Should().BeEquivalentTo(Enumerable.Range(1, 10).Select(i => $"Agent-{i}"));
    }

    [Fact]
    public virtual async Task Membership_BadArguments_ChangeNothing()
    {
        await NewSessionAsync();

        var missing = () => Store.AddParticipantAsync("missing", "Agent-3", cancellationToken: Ct);
        var badId = () => Store.AddParticipantAsync("s-1", "bad\u0001id", cancellationToken: Ct);
        var tooMany = () => WithOptions(o => o.MaxParticipants = 2).AddParticipantAsync("s-1", "Agent-3", cancellationToken: Ct);

        await missing.Should().ThrowAsync<SessionNotFoundException>();
        await badId.Should().ThrowAsync<ArgumentException>();
        await tooMany.Should().ThrowAsync<ArgumentException>().WithMessage("*MaxParticipants*");
        (await Store.GetSessionAsync("s-1", Ct))!.Participants.Should().Equal("Agent-1", "Agent-2");
    }

    [Fact]
    public virtual async Task RequireParticipantSender_RefusesOthers_AndStoresNothingOfTheBatch()
    {
        await NewSessionAsync();
        var strict = WithOptions(o => o.RequireParticipantSender = true);

        var stranger = () => strict.AddMessagesAsync("s-1", [Message("s-1", "ok"), Message("s-1", "bad", sender: "Stranger")], Ct);

        (await stranger.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("Stranger").And.Contain("RequireParticipantSender");
        (await Store.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(0);
        await strict.AddParticipantAsync("s-1", "Stranger", cancellationToken: Ct);
        (await strict.AddMessageAsync(Message("s-1", "welcome", sender: "Stranger"), Ct)).Sequence.Should().Be(1);
        (await Store.AddMessageAsync(Message("s-1", "lenient", sender: "Someone"), Ct)).Sequence.Should().Be(2, "the option is off by default");
    }
}

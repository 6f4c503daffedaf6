using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>
/// The limit policies: <see cref="MessageLimitPolicy.Reject"/> refuses an append that would pass
/// MaxMessagesPerSession (nothing stored, retries still idempotent), and
/// <see cref="SessionLimitPolicy.EvictLeastRecentlyActive"/> makes room for a create by deleting the session listed last.
/// </summary>
public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task AddMessage_AtMaxMessagesUnderReject_ThrowsQuotaAndStoresNothing()
    {
        var limited = await OpenAsync(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (3, MessageLimitPolicy.Reject));
        await limited.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await limited.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2"), Message("s-1", "m-3")], Ct);
        var before = await limited.GetSessionAsync("s-1", Ct);

        var act = () => limited.AddMessageAsync(Message("s-1", "m-4"), Ct);

        await act.Should().ThrowAsync<QuotaExceededException>().WithMessage("*s-1*MaxMessagesPerSession*3*");
        var after = await limited.GetSessionAsync("s-1", Ct);
        after!.MessageCount.Should().Be(3);
        after.LastSequence.Should().Be(before!.LastSequence);
        (await ReadAllAsync(limited, "s-1")).Select(m => m.Id).Should().Equal("m-1", "m-2", "m-3");
    }

    [Fact]
    public virtual async Task AddMessages_BatchCrossingMaxMessagesUnderReject_StoresNoneOfIt()
    {
        var limited = await OpenAsync(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (3, MessageLimitPolicy.Reject));
        await limited.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await limited.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2")], Ct);

        var act = () => limited.AddMessagesAsync("s-1", [Message("s-1", "m-3"), Message("s-1", "m-4")], Ct);

        await act.Should().ThrowAsync<QuotaExceededException>();
        (await ReadAllAsync(limited, "s-1")).Select(m => m.Id).Should().Equal("m-1", "m-2");
        (await limited.AddMessageAsync(Message("s-1", "m-3"), Ct)).Sequence.Should().Be(3, "the refused batch took no sequence");
    }

    [Fact]
    public virtual async Task AddMessages_RetryOfStoredIdsAtMaxMessagesUnderReject_ReturnsTheOriginals()
    {
        var limited = await OpenAsync(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (2, MessageLimitPolicy.Reject));
        await limited.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        var stored = await limited.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2")], Ct);

        var retried = await limited.AddMessagesAsync("s-1", [Message("s-1", "m-2", content: "changed"), Message("s-1", "m-1")], Ct);
        var single = await limited.AddMessageAsync(Message("s-1", "m-1"), Ct);

        retried.Select(m => (m.Id, m.Sequence, m.Content)).Should().Equal((stored[1].Id, 2L, stored[1].Content), (stored[0].Id, 1L, stored[0].Content));
        single.Sequence.Should().Be(1);
        (await limited.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(2);
    }

    [Fact]
    public virtual async Task AddMessages_StoredIdWithANewOneAtMaxMessagesUnderReject_IsRefusedWhole()
    {
        var limited = await OpenAsync(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (2, MessageLimitPolicy.Reject));
        await limited.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await limited.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2")], Ct);

        var act = () => limited.AddMessagesAsync("s-1", [Message("s-1", "m-2"), Message("s-1", "m-3")], Ct);

        await act.Should().ThrowAsync<QuotaExceededException>();
        (await ReadAllAsync(limited, "s-1")).Select(m => m.Id).Should().Equal("m-1", "m-2");
    }

    [Fact]
    public virtual async Task AddMessage_UnderRejectAfterATrimFreedRoom_IsStored()
    {
        var limited = await OpenAsync(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (2, MessageLimitPolicy.Reject));
        await limited.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await limited.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2")], Ct);
        await limited.Store.TrimMessagesAsync("s-1", 1, Ct);

        var stored = await limited.AddMessageAsync(Message("s-1", "m-3"), Ct);

        stored.Sequence.Should().Be(3);
        (await ReadAllAsync(limited, "s-1")).Select(m => m.Id).Should().Equal("m-2", "m-3");
    }

    [Fact]
    public virtual async Task AppendMessages_RejectLimitArgumentOfTheStore_IsEnforcedWithoutAnOption()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 2);

        var act = () => Store.Store.AppendMessagesAsync("s-1", [Message("s-1", "x-1")], MessageLimit.Reject(2), Ct);

        await act.Should().ThrowAsync<QuotaExceededException>();
        var trimmed = await Store.Store.AppendMessagesAsync("s-1", [Message("s-1", "x-1")], MessageLimit.TrimOldest(2), Ct);
        trimmed[0].Sequence.Should().Be(3);
        (await ReadAllAsync(Store, "s-1")).Select(m => m.Id).Should().Equal("m-2", "x-1");
    }

    [Fact]
    public virtual async Task AddMessage_ConcurrentAppendersUnderReject_StoreExactlyTheLimitGapless()
    {
        const int Max = 12;
        var first = await OpenAsync(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (Max, MessageLimitPolicy.Reject));
        var second = SharesStorageAcrossInstances ? await OpenAsync(o => (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (Max, MessageLimitPolicy.Reject)) : first;
        await first.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            try
            {
                await (i % 2 == 0 ? first : second).AddMessageAsync(Message("s-1", $"m-{i}"), Ct);
                return "stored";
            }
            catch (QuotaExceededException)
            {
                return "quota";
            }
        }));

        outcomes.Count(o => o == "stored").Should().Be(Max);
        var all = await ReadAllAsync(first, "s-1");
        all.Should().HaveCount(Max);
        ShouldBeGapless(all);
    }

    [Fact]
    public virtual async Task CreateSession_AtMaxSessionsUnderEvict_DeletesTheLeastRecentlyActiveWithItsMessages()
    {
        using var logs = new CapturingLoggerFactory();
        var limited = await OpenAsync(o => (o.MaxSessions, o.SessionLimitPolicy) = (3, SessionLimitPolicy.EvictLeastRecentlyActive), logs);
        await limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);
        await limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);
        await limited.AddMessageAsync(Message("b", "b-1"), Ct);
        await limited.CreateSessionAsync("c", ["x"], cancellationToken: Ct);
        await limited.AddMessageAsync(Message("a", "a-1"), Ct);

        var created = await limited.CreateSessionAsync("d", ["x"], cancellationToken: Ct);

        created.SessionId.Should().Be("d");
        (await limited.GetSessionAsync("b", Ct)).Should().BeNull("b was the least recently active");
        var ids = new List<string>();
        await foreach (var id in limited.Store.ListSessionIdsAsync(Ct))
        {
            ids.Add(id);
        }

        ids.Should().BeEquivalentTo(["a", "c", "d"]);
        (await limited.GetStatisticsAsync(Ct)).Should().Match<StoreStatistics>(s => s.SessionCount == 3 && s.MessageCount == 1);
        logs.Events.Should().ContainSingle(e => e.Id.Id == 607).Which.Message.Should().Contain("session b,").And.Contain("session d under");

        var act = () => limited.GetMessagesAsync("b", 10, Ct);
        await act.Should().ThrowAsync<SessionNotFoundException>();
        await limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);
        (await limited.GetMessagesAsync("b", 10, Ct)).Should().BeEmpty("a re-created session never sees the evicted one's messages");
    }

    [Fact]
    public virtual async Task CreateSession_ExistingIdAtMaxSessionsUnderEvict_ThrowsAlreadyExistsAndEvictsNothing()
    {
        var limited = await OpenAsync(o => (o.MaxSessions, o.SessionLimitPolicy) = (2, SessionLimitPolicy.EvictLeastRecentlyActive));
        await limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);
        await limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);

        var act = () => limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);

        await act.Should().ThrowAsync<SessionAlreadyExistsException>();
        (await limited.GetSessionAsync("a", Ct)).Should().NotBeNull();
        (await limited.GetStatisticsAsync(Ct)).SessionCount.Should().Be(2);
    }

    [Fact]
    public virtual async Task CreateSession_BelowMaxSessionsUnderEvict_EvictsNothing()
    {
        var limited = await OpenAsync(o => (o.MaxSessions, o.SessionLimitPolicy) = (3, SessionLimitPolicy.EvictLeastRecentlyActive));
        await limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);
        await limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);

        await limited.CreateSessionAsync("c", ["x"], cancellationToken: Ct);

        (await limited.GetStatisticsAsync(Ct)).SessionCount.Should().Be(3);
    }

    [Fact]
    public virtual async Task CreateSession_EvictLimitArgumentOfTheStore_IsEnforcedWithoutAnOption()
    {
        await NewSessionAsync("a");
        await NewSessionAsync("b");

        await Store.Store.CreateSessionAsync(new ChatSession { SessionId = "c", Participants = ["x"] }, SessionLimit.EvictLeastRecentlyActive(2), Ct);

        (await Store.GetSessionAsync("a", Ct)).Should().BeNull();
        (await Store.GetSessionAsync("b", Ct)).Should().NotBeNull();
        (await Store.GetSessionAsync("c", Ct)).Should().NotBeNull();
    }

    [Fact]
    public virtual async Task CreateSession_ConcurrentCreatorsUnderEvict_AllSucceedAndTheLimitHolds()
    {
        const int Max = 8;
        var first = await OpenAsync(o => (o.MaxSessions, o.SessionLimitPolicy) = (Max, SessionLimitPolicy.EvictLeastRecentlyActive));
        var second = SharesStorageAcrossInstances
            ? await OpenAsync(o => (o.MaxSessions, o.SessionLimitPolicy) = (Max, SessionLimitPolicy.EvictLeastRecentlyActive))
            : first;

        await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            (i % 2 == 0 ? first : second).CreateSessionAsync($"race-{i}", ["a"], cancellationToken: Ct)));

        (await first.GetStatisticsAsync(Ct)).SessionCount.Should().Be(Max);
        (await first.ListSessionsAsync(new SessionQuery { Limit = 100 }, Ct)).Sessions.Should().HaveCount(Max);
    }

    [Fact]
    public virtual void LimitArguments_OutOfRange_ThrowArgumentOutOfRange()
    {
        FluentActions.Invoking(() => SessionLimit.Reject(-1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new MessageLimit(1, (MessageLimitPolicy)7)).Should().Throw<ArgumentOutOfRangeException>();
        SessionLimit.None.IsLimited.Should().BeFalse();
        default(MessageLimit).Should().Be(MessageLimit.None);
    }

    [Fact]
    public virtual async Task Options_UnknownLimitPolicy_FailValidationNamingTheSetting()
    {
        var act = () => OpenAsync(o => o.SessionLimitPolicy = (SessionLimitPolicy)9);

        await act.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*SessionLimitPolicy*");
    }

    [Fact]
    public virtual async Task Cleanup_UnderRejectPolicies_StillEnforcesALoweredLimit()
    {
        await NewSessionAsync("b");
        await NewSessionAsync("a");
        await AppendAsync("a", 5);
        var limited = WithOptions(o =>
        {
            (o.MaxMessagesPerSession, o.MessageLimitPolicy) = (3, MessageLimitPolicy.Reject);
            (o.MaxSessions, o.SessionLimitPolicy) = (1, SessionLimitPolicy.Reject);
        });

        var report = await limited.CleanupAsync(Ct);

        report.Should().Be(new CleanupReport(ExpiredSessions: 0, ExcessSessions: 1, TrimmedMessages: 2));
        (await Store.GetSessionAsync("b", Ct)).Should().BeNull("b is the least recently active");
        (await ReadAllAsync(Store, "a")).Select(m => m.Id).Should().Equal("m-3", "m-4", "m-5");
    }
}

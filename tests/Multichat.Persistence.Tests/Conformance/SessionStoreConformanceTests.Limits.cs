using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>MaxSessions is exact: the store checks and inserts in one step, so racing creators never pass it.</summary>
public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task CreateSession_ConcurrentCreatorsUnderMaxSessions_StoreExactlyTheLimit()
    {
        const int Max = 10;
        var first = await OpenAsync(o => o.MaxSessions = Max);
        var second = SharesStorageAcrossInstances ? await OpenAsync(o => o.MaxSessions = Max) : first;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            try
            {
                await (i % 2 == 0 ? first : second).CreateSessionAsync($"race-{i}", ["a"], cancellationToken: Ct);
                return "created";
            }
            catch (QuotaExceededException)
            {
                return "quota";
            }
        }));

        outcomes.Count(o => o == "created").Should().Be(Max);
        outcomes.Count(o => o == "quota").Should().Be(40 - Max);
        (await first.GetStatisticsAsync(Ct)).SessionCount.Should().Be(Max);
    }

    [Fact]
    public virtual async Task CreateSession_AtMaxSessionsAfterADelete_Succeeds()
    {
        var limited = await OpenAsync(o => o.MaxSessions = 2);
        await limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);
        await limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);
        await limited.DeleteSessionAsync("a", Ct);

        var created = await limited.CreateSessionAsync("c", ["x"], cancellationToken: Ct);

        created.SessionId.Should().Be("c");
        (await limited.GetStatisticsAsync(Ct)).SessionCount.Should().Be(2);
    }

    [Fact]
    public virtual async Task CreateSession_AtMaxSessions_StoresNothing()
    {
        var limited = await OpenAsync(o => o.MaxSessions = 1);
        await limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);

        var act = () => limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);

        await act.Should().ThrowAsync<QuotaExceededException>();
        (await limited.GetSessionAsync("b", Ct)).Should().BeNull();
        (await limited.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().Equal("a");
    }

    [Fact]
    public virtual async Task CreateSession_ExistingIdAtMaxSessions_ThrowsAlreadyExists()
    {
        var limited = await OpenAsync(o => o.MaxSessions = 1);
        await limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);

        var act = () => limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);

        await act.Should().ThrowAsync<SessionPersistenceException>().Where(e => e is SessionAlreadyExistsException || e is QuotaExceededException);
        (await limited.GetStatisticsAsync(Ct)).SessionCount.Should().Be(1);
    }

    [Fact]
    public virtual async Task CreateSession_MaxSessionsArgumentOfTheStore_IsEnforcedWithoutAnOption()
    {
        await NewSessionAsync("a");
        await NewSessionAsync("b");

        var act = () => Store.Store.CreateSessionAsync(new ChatSession { SessionId = "c", Participants = ["x"] }, SessionLimit.Reject(2), Ct);

        await act.Should().ThrowAsync<QuotaExceededException>().WithMessage("*MaxSessions*");
        (await Store.Store.CreateSessionAsync(new ChatSession { SessionId = "c", Participants = ["x"] }, SessionLimit.Reject(3), Ct)).SessionId.Should().Be("c");
    }

    [Fact]
    public virtual async Task CreateSession_NegativeMaxSessionsArgument_ThrowsArgumentOutOfRange()
    {
        var act = () => Store.Store.CreateSessionAsync(new ChatSession { SessionId = "c", Participants = ["x"] }, SessionLimit.Reject(-1), Ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
        (await Store.GetSessionAsync("c", Ct)).Should().BeNull();
    }
}

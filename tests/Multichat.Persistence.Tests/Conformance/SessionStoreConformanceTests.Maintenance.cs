using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    [Fact]
    public virtual async Task GetStatistics_CountsSessionsAndMessages()
    {
        await NewSessionAsync("a");
        await NewSessionAsync("b");
        await AppendAsync("a", 3);
        await AppendAsync("b", 4);

        var statistics = await Store.GetStatisticsAsync(Ct);

        statistics.SessionCount.Should().Be(2);
        statistics.MessageCount.Should().Be(7);
        statistics.Store.Should().Be(Store.Store.Name);
    }

    [Fact]
    public virtual async Task CheckHealth_WorkingStore_IsHealthy()
    {
        var report = await Store.CheckHealthAsync(Ct);

        report.Status.Should().Be(StoreHealthStatus.Healthy, report.Description);
    }

    [Fact]
    public virtual async Task Cleanup_WithCleanupDays_DeletesOnlyIdleSessions()
    {
        var store = await OpenAsync(o => o.CleanupDays = 30);
        await store.CreateSessionAsync("old", ["a"], cancellationToken: Ct);
        Clock.Advance(TimeSpan.FromDays(20));
        await store.CreateSessionAsync("recent", ["a"], cancellationToken: Ct);
        Clock.Advance(TimeSpan.FromDays(15));

        var report = await store.CleanupAsync(Ct);

        report.ExpiredSessions.Should().Be(1);
        (await store.GetSessionAsync("old", Ct)).Should().BeNull();
        (await store.GetSessionAsync("recent", Ct)).Should().NotBeNull();
    }

    [Fact]
    public virtual async Task Cleanup_WithMaxSessions_DeletesTheLeastRecentlyActive()
    {
        for (var i = 0; i < 5; i++)
        {
            await NewSessionAsync($"s-{i}");
        }

        await Store.AddMessageAsync(Message("s-0", "m"), Ct);
        var limited = WithOptions(o => o.MaxSessions = 3);

        var report = await limited.CleanupAsync(Ct);

        report.ExcessSessions.Should().Be(2);
        (await limited.ListSessionsAsync(cancellationToken: Ct)).Sessions.Select(s => s.SessionId).Should().Equal("s-0", "s-4", "s-3");
    }

    [Fact]
    public virtual async Task CreateSession_AtMaxSessions_ThrowsQuotaExceeded()
    {
        var limited = await OpenAsync(o => o.MaxSessions = 2);
        await limited.CreateSessionAsync("a", ["x"], cancellationToken: Ct);
        await limited.CreateSessionAsync("b", ["x"], cancellationToken: Ct);

        var act = () => limited.CreateSessionAsync("c", ["x"], cancellationToken: Ct);

        await act.Should().ThrowAsync<QuotaExceededException>().WithMessage("*MaxSessions*");
    }

    [Fact]
    public virtual async Task Cleanup_WithMaxMessagesPerSession_TrimsLongHistories()
    {
        await NewSessionAsync();
        await AppendAsync("s-1", 12);
        var limited = WithOptions(o => o.MaxMessagesPerSession = 10);

        var report = await limited.CleanupAsync(Ct);

        report.TrimmedMessages.Should().Be(2);
        (await ReadAllAsync(limited, "s-1")).First().Sequence.Should().Be(3);
    }
}

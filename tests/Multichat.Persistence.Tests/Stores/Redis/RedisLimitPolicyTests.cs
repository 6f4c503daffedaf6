using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The limit policies on a single node (see <see cref="RedisLimitPolicyScenarios"/>), where an evicting create is one
/// script below the limit and two at it (the first proposes the victims, the second, given their keys, checks, evicts
/// and creates).
/// </summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisLimitPolicyTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly RedisLimitPolicyScenarios _scenarios = new(redis, "p" + Guid.NewGuid().ToString("N")[..12] + ":");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _scenarios.DisposeAsync();

    [Fact]
    public Task CreateSession_LimitBelowTheStoredCountUnderEvict_EvictsSeveralOldestFirst() => _scenarios.LoweredLimitEvictsSeveralOldestFirstAsync();

    [Fact]
    public Task CreateSession_ActivityTiesUnderEvict_BreakByTicksThenCodePointOrder() => _scenarios.TiesAreBrokenByTicksThenCodePointOrderAsync();

    [Fact]
    public Task CreateSession_VanishedAndDamagedOldestUnderEvict_AreNotEvicted() => _scenarios.VanishedAndDamagedSessionsAreNotEvictedAsync();

    [Fact]
    public Task CreateSession_FourConnectionsRaceUnderEvict_EndAtTheLimitAndReportEachEvictionOnce() => _scenarios.IndependentConnectionsRaceAsync();

    [Fact]
    public Task AddMessages_FourConnectionsRaceUnderReject_StoreWholeBatchesUpToTheLimit() => _scenarios.RejectHoldsAcrossConnectionsAsync();

    [Fact]
    public Task AddMessages_RefusedUnderReject_ChangesNoKey() => _scenarios.RefusedAppendWritesNothingAsync();

    [Fact]
    public async Task CreateSession_UnderEvict_IsOneScriptBelowTheLimitAndTwoAtIt()
    {
        var store = _scenarios.Open(RedisLimitPolicyScenarios.NewClock(), maxSessions: 2);
        await store.CreateSessionAsync("warm-up", ["a"], cancellationToken: Ct);

        var below = await RedisMonitor.ClientCommandsAsync(redis.Admin, () => store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct));
        var at = await RedisMonitor.ClientCommandsAsync(redis.Admin, () => store.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct));

        below.Should().ContainSingle("check and create are one script:\n" + string.Join('\n', below)).Which.Should().ContainEquivalentOf("\"evalsha\"");
        at.Should().HaveCount(2, "one script proposes the victim, the next evicts it and creates:\n" + string.Join('\n', at))
            .And.AllSatisfy(c => c.Should().ContainEquivalentOf("\"evalsha\""));
        (await store.GetSessionAsync("warm-up", Ct)).Should().BeNull();
    }

    [Fact]
    public async Task AddMessage_RefusedUnderReject_IsOneScript()
    {
        var store = _scenarios.Open(RedisLimitPolicyScenarios.NewClock(), maxMessages: 1);
        await store.CreateSessionAsync("s", ["a"], cancellationToken: Ct);
        await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s", Sender = "a", Content = "c" }, Ct);

        var commands = await RedisMonitor.ClientCommandsAsync(redis.Admin, async () =>
        {
            var act = () => store.AddMessageAsync(new ChatMessage { Id = "m-2", SessionId = "s", Sender = "a", Content = "c" }, Ct);
            await act.Should().ThrowAsync<QuotaExceededException>();
        });

        commands.Should().ContainSingle("the limit is checked inside the append script:\n" + string.Join('\n', commands)).Which.Should().ContainEquivalentOf("\"evalsha\"");
    }
}

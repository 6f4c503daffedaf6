using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// MaxSessions on the 3-primary cluster, where the count has its own hash slot and a create takes a lease on it before
/// it creates (see RedisSessionLimit): the bound (never more than the limit) holds under a race of processes, a create
/// under way holds its slot, and a lease left by a process that stopped holds it only until it expires.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterSessionLimitTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private readonly string _prefix = "l" + Guid.NewGuid().ToString("N")[..12] + ":";
    private RedisSessionLimitScenarios? _scenarios;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RedisSessionLimitScenarios Scenarios => _scenarios ??= new RedisSessionLimitScenarios(cluster, _prefix);

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => Scenarios.DisposeAsync();

    [Fact]
    public Task CreateSession_FourProcessesRaceUnderTheLimitOnACluster_StoresExactlyTheLimit() => Scenarios.FourProcessesRaceAsync();

    [Fact]
    public Task CreateSession_FourProcessesEvictingUnderTheLimitOnACluster_AllSucceedAndStoreExactlyTheLimit() => Scenarios.FourProcessesEvictingAsync();

    [Fact]
    public Task CreateSession_AfterADeleteAtTheLimitOnACluster_SucceedsOnce() => Scenarios.DeleteFreesASlotAsync();

    [Fact]
    public Task CreateSession_MissingCountOnACluster_IsInitialisedFromTheIndexes() => Scenarios.MissingCountIsInitialisedAsync();

    [Fact]
    public Task CreateSession_AfterImportsAndDuplicatesOnACluster_CountsEachStoredSessionOnce() => Scenarios.ImportsAndDuplicatesKeepTheCountAsync();

    [Fact]
    public async Task CreateSession_LeaseOfAStoppedCreator_IsDroppedOnceExpiredWhileALiveOneHoldsItsSlot()
    {
        var store = Scenarios.Open(maxSessions: 3);
        await store.CreateSessionAsync("s-0", ["a"], cancellationToken: Ct);
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        var creating = (StackExchange.Redis.RedisKey)(_prefix + "{sessions}:creating");
        var now = await ServerMillisecondsAsync();
        var db = cluster.Admin.GetDatabase();

        // A process that took its lease and stopped before creating, two hours ago: the count says full until it goes.
        await db.SortedSetAddAsync(creating, "stopped", now - TimeSpan.FromHours(2).TotalMilliseconds);
        await store.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct);
        (await db.SortedSetScoreAsync(creating, "stopped")).Should().BeNull("the recount at the limit drops expired leases");

        (await store.DeleteSessionAsync("s-0", Ct)).Should().BeTrue();
        await db.SortedSetAddAsync(creating, "under-way", now);
        var refused = () => store.CreateSessionAsync("s-3", ["a"], cancellationToken: Ct);

        await refused.Should().ThrowAsync<QuotaExceededException>("a create under way holds its slot: 2 sessions + 1 lease = MaxSessions");
        await db.SortedSetRemoveAsync(creating, "under-way");
        await store.CreateSessionAsync("s-3", ["a"], cancellationToken: Ct);
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(3);
    }

    private async Task<double> ServerMillisecondsAsync()
    {
        var time = await cluster.Admin.GetServers()[0].TimeAsync();
        return (time - DateTime.UnixEpoch).TotalMilliseconds;
    }
}

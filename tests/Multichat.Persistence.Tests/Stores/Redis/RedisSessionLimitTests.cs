using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>MaxSessions on a single node, where the check and the create are one script and so exact.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisSessionLimitTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly RedisSessionLimitScenarios _scenarios = new(redis, "l" + Guid.NewGuid().ToString("N")[..12] + ":");

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _scenarios.DisposeAsync();

    [Fact]
    public async Task CreateSession_UnderALimit_IsOneServerCommand()
    {
        var store = _scenarios.Open(maxSessions: 100);
        await store.CreateSessionAsync("warm-up", ["a"], cancellationToken: TestContext.Current.CancellationToken);

        var commands = await RedisMonitor.ClientCommandsAsync(
            redis.Admin, () => store.CreateSessionAsync("s-1", ["a"], cancellationToken: TestContext.Current.CancellationToken));

        commands.Should().ContainSingle("the limit check and the create are one script:\n" + string.Join('\n', commands))
            .Which.Should().ContainEquivalentOf("\"evalsha\"");
    }

    [Fact]
    public Task CreateSession_FourProcessesRaceUnderTheLimit_StoresExactlyTheLimit() => _scenarios.FourProcessesRaceAsync();

    [Fact]
    public Task CreateSession_FourProcessesEvictingUnderTheLimit_AllSucceedAndStoreExactlyTheLimit() => _scenarios.FourProcessesEvictingAsync();

    [Fact]
    public Task CreateSession_AfterADeleteAtTheLimit_SucceedsOnce() => _scenarios.DeleteFreesASlotAsync();

    [Fact]
    public Task CreateSession_SessionsStoredWithoutACount_AreCounted() => _scenarios.MissingCountIsInitialisedAsync();

    [Fact]
    public Task CreateSession_AfterImportsAndDuplicates_CountsEachStoredSessionOnce() => _scenarios.ImportsAndDuplicatesKeepTheCountAsync();
}

using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The cross-process feed and read-state checks on one redis-server: the other process has its own
/// multiplexer, as another machine would.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisFeedAcrossProcessesTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "f" + Guid.NewGuid().ToString("N")[..12] + ":";

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await redis.DeleteKeysAsync(_prefix);

    [Fact]
    public Task Watch_StartedHalfwayThroughAnotherProcesssAppends_ReceivesEveryLaterMessageOnceInOrder() =>
        FeedAcrossProcesses.WatcherStartedHalfway_ReceivesEveryLaterMessageOnceInOrderAsync(Options(), "Redis", redis.ConnectionString, _prefix);

    [Fact]
    public Task UnreadCounts_AppendsAndMarksFromAnotherProcessAndTasks_EqualARecount() =>
        FeedAcrossProcesses.UnreadCounts_AcrossProcessesAndTasks_EqualARecountAsync(Options(), "Redis", redis.ConnectionString, _prefix);

    private SessionPersistenceOptions Options() =>
        new() { StorageType = StorageType.Redis, ConnectionString = redis.ConnectionString, RedisKeyPrefix = _prefix };
}

using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The cross-process feed and read-state checks on the 3-primary cluster, where the hints go by sharded
/// pub/sub.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterFeedAcrossProcessesTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private readonly string _prefix = "f" + Guid.NewGuid().ToString("N")[..12] + ":";

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await cluster.DeleteKeysAsync(_prefix);

    [Fact]
    public Task Watch_StartedHalfwayThroughAnotherProcesssAppendsOnACluster_ReceivesEveryLaterMessageOnceInOrder() =>
        FeedAcrossProcesses.WatcherStartedHalfway_ReceivesEveryLaterMessageOnceInOrderAsync(Options(), "Redis", cluster.ConnectionString, _prefix);

    [Fact]
    public Task UnreadCounts_AppendsAndMarksFromAnotherProcessAndTasksOnACluster_EqualARecount() =>
        FeedAcrossProcesses.UnreadCounts_AcrossProcessesAndTasks_EqualARecountAsync(Options(), "Redis", cluster.ConnectionString, _prefix);

    private SessionPersistenceOptions Options() =>
        new() { StorageType = StorageType.Redis, ConnectionString = cluster.ConnectionString, RedisKeyPrefix = _prefix };
}

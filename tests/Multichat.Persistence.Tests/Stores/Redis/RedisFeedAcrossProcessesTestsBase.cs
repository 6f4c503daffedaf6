using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The cross-process feed and read-state checks (<see cref="FeedAcrossProcesses"/>) on the deployment a
/// derived class names: the other process has its own multiplexer, as another machine would.</summary>
public abstract class RedisFeedAcrossProcessesTestsBase(RedisFixture fixture) : IAsyncLifetime
{
    private readonly string _prefix = "f" + Guid.NewGuid().ToString("N")[..12] + ":";

    public ValueTask InitializeAsync()
    {
        fixture.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await fixture.DeleteKeysAsync(_prefix);

    [Fact]
    public Task Watch_StartedHalfwayThroughAnotherProcesssAppends_ReceivesEveryLaterMessageOnceInOrder() =>
        FeedAcrossProcesses.WatcherStartedHalfway_ReceivesEveryLaterMessageOnceInOrderAsync(Options(), "Redis", fixture.ConnectionString, _prefix);

    [Fact]
    public Task UnreadCounts_AppendsAndMarksFromAnotherProcessAndTasks_EqualARecount() =>
        FeedAcrossProcesses.UnreadCounts_AcrossProcessesAndTasks_EqualARecountAsync(Options(), "Redis", fixture.ConnectionString, _prefix);

    private SessionPersistenceOptions Options() =>
        new() { StorageType = StorageType.Redis, ConnectionString = fixture.ConnectionString, RedisKeyPrefix = _prefix };
}

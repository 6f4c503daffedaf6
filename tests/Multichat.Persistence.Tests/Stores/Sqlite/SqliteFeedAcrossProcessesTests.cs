using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>The shared cross-process feed and read-state checks against one sessions.db written by a child process.</summary>
public sealed class SqliteFeedAcrossProcessesTests : IDisposable
{
    private readonly string _folder = SqliteTestFolder.Create();

    [Fact]
    public Task Watch_StartedHalfwayThroughAnotherProcessesAppends_ReceivesEveryLaterMessageOnceInOrder() =>
        FeedAcrossProcesses.WatcherStartedHalfway_ReceivesEveryLaterMessageOnceInOrderAsync(Options(), "Sqlite", _folder, redisKeyPrefix: null);

    [Fact]
    public Task UnreadCounts_UnderAppendsAndMarksFromAnotherProcessAndTasks_EqualARecount() =>
        FeedAcrossProcesses.UnreadCounts_AcrossProcessesAndTasks_EqualARecountAsync(Options(), "Sqlite", _folder, redisKeyPrefix: null);

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private SessionPersistenceOptions Options() => new() { StorageType = StorageType.Sqlite, StoragePath = _folder };
}

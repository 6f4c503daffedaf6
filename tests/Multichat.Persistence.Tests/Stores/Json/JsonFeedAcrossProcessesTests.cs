using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>The shared cross-process feed and read-state checks (issue 14) on a Json store folder two processes open.</summary>
public sealed class JsonFeedAcrossProcessesTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public Task Watch_StartedHalfwayThroughAnotherProcessesAppends_ReceivesEveryLaterMessageOnceInOrder() =>
        FeedAcrossProcesses.WatcherStartedHalfway_ReceivesEveryLaterMessageOnceInOrderAsync(_folder.Options(), "Json", _folder.Root, redisKeyPrefix: null);

    [Fact]
    public Task UnreadCounts_UnderAppendsAndMarksFromAnotherProcessAndTasks_EqualARecount() =>
        FeedAcrossProcesses.UnreadCounts_AcrossProcessesAndTasks_EqualARecountAsync(_folder.Options(), "Json", _folder.Root, redisKeyPrefix: null);
}

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The atomic session replacement of a restore on a 3-primary cluster (see <see cref="RedisReplacementScenarios"/>).</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterReplacementTests(RedisClusterFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "rc" + Guid.NewGuid().ToString("N")[..12] + ":";

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await redis.DeleteKeysAsync(_prefix);

    [Fact]
    public Task ReplaceSession_WhileBatchesStream_ReadersSeeTheOldSessionThenTheNewWhole() =>
        RedisReplacementScenarios.WhileBatchesStream_ReadersSeeTheOldSessionThenTheNewWholeAsync(redis, _prefix);

    [Fact]
    public Task ReplaceSession_BatchesThrow_LeavesTheOldSessionAndNoStagedKeys() =>
        RedisReplacementScenarios.BatchesThrow_LeavesTheOldSessionAndNoStagedKeysAsync(redis, _prefix);

    [Fact]
    public Task ReplaceSession_WhileStaging_StagedKeysHaveATimeToLive() => RedisReplacementScenarios.StagedKeys_HaveATimeToLiveAsync(redis, _prefix);

    [Fact]
    public Task ReplaceSession_MissingSession_IsCreatedCountedOnceAndItsIdsRecognised() =>
        RedisReplacementScenarios.MissingSession_IsCreatedCountedOnceAndItsIdsRecognisedAsync(redis, _prefix, countKeyExpected: true);

    [Fact]
    public Task Restore_CancelledInTheSecondSession_LeavesItAsItWas() => RedisReplacementScenarios.RestoreCancelledInTheSecondSession_LeavesItAsItWasAsync(redis, _prefix);

    [Fact]
    public Task Restore_WorkerKilledHalfWay_LeavesEachSessionAsItWasOrAsArchived() =>
        RedisReplacementScenarios.RestoreKilledHalfWay_LeavesEachSessionAsItWasOrAsArchivedAsync(redis, "cluster");
}

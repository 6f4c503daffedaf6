namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The Redis store's feed hints (sharded pub/sub) and read-cursor key on the 3-primary cluster (see <see cref="RedisFeedScenarios"/>).</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterFeedTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private readonly string _prefix = "h" + Guid.NewGuid().ToString("N")[..12] + ":";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await cluster.DeleteKeysAsync(_prefix);

    [Fact]
    public Task Watch_AppendFromAnotherMultiplexerOnACluster_ArrivesByItsHintWithoutAPoll() =>
        RedisFeedScenarios.AppendFromAnotherMultiplexer_ReachesTheWatcherByItsHintAsync(cluster, _prefix);

    [Fact]
    public Task AddMessage_OnACluster_PublishesItsHintSharded() => RedisFeedScenarios.Append_PublishesItsHintWithAsync(cluster, _prefix, "spublish");

    [Fact]
    public Task Listen_SubscriptionConnectionKilledOnACluster_WakesTheWatcherWhenRestored() =>
        RedisFeedScenarios.SubscriptionConnectionKilled_WakesEveryWatcherWhenRestoredAsync(cluster, _prefix);

    [Fact]
    public Task Watch_AppendWhileTheSubscriptionIsDownOnACluster_StillArrives() =>
        RedisFeedScenarios.AppendWhileTheSubscriptionIsDown_StillReachesTheWatcherAsync(cluster, _prefix);

    [Fact]
    public Task MarkRead_StoredCursorDamagedOnACluster_IsReportedAndChangesNothing() =>
        RedisFeedScenarios.MarkRead_CursorStoredAsAnotherType_IsReportedAsDamageAndChangesNothingAsync(cluster, _prefix);

    [Fact]
    public Task ReadCursors_SessionDeletedOnACluster_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(cluster, _prefix, (store, _) => store.DeleteSessionAsync("s-1", Ct));

    [Fact]
    public Task ReadCursors_SessionImportedOverItOnACluster_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(cluster, _prefix, async (store, _) =>
            await store.Store.ImportSessionAsync((await store.GetSessionAsync("s-1", Ct))!, replaceExisting: true, Ct));

    [Fact]
    public Task ReadCursors_SessionRestoredOverItOnACluster_KeyHoldsTheArchivesCursors() =>
        RedisFeedScenarios.CursorKey_AfterARestore_HoldsTheArchivesCursorsAsync(cluster, _prefix);

    [Fact]
    public Task ReadCursors_SessionEvictedUnderMaxSessionsOnACluster_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(
            cluster,
            _prefix,
            async (store, clock) =>
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                await store.CreateSessionAsync("s-2", ["Agent-1"], cancellationToken: Ct);
            },
            options => (options.MaxSessions, options.SessionLimitPolicy) = (1, SessionLimitPolicy.EvictLeastRecentlyActive));

    [Fact]
    public Task ReadCursors_SessionRemovedByRetentionOnACluster_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(
            cluster,
            _prefix,
            async (store, clock) =>
            {
                clock.Advance(TimeSpan.FromDays(2));
                await store.CleanupAsync(Ct);
            },
            options => options.CleanupDays = 1);
}

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The Redis store's feed hints and read-cursor key on a single node (see <see cref="RedisFeedScenarios"/>).</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisFeedTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "h" + Guid.NewGuid().ToString("N")[..12] + ":";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await redis.DeleteKeysAsync(_prefix);

    [Fact]
    public Task Watch_AppendFromAnotherMultiplexer_ArrivesByItsHintWithoutAPoll() =>
        RedisFeedScenarios.AppendFromAnotherMultiplexer_ReachesTheWatcherByItsHintAsync(redis, _prefix);

    [Fact]
    public Task AddMessage_OnASingleNode_PublishesItsHintClassically() => RedisFeedScenarios.Append_PublishesItsHintWithAsync(redis, _prefix, "publish");

    [Fact]
    public Task Listen_SubscriptionConnectionKilled_WakesTheWatcherWhenRestored() =>
        RedisFeedScenarios.SubscriptionConnectionKilled_WakesEveryWatcherWhenRestoredAsync(redis, _prefix);

    [Fact]
    public Task Watch_AppendWhileTheSubscriptionIsDown_StillArrives() =>
        RedisFeedScenarios.AppendWhileTheSubscriptionIsDown_StillReachesTheWatcherAsync(redis, _prefix);

    [Fact]
    public Task MarkRead_StoredCursorDamaged_IsReportedAndChangesNothing() =>
        RedisFeedScenarios.MarkRead_CursorStoredAsAnotherType_IsReportedAsDamageAndChangesNothingAsync(redis, _prefix);

    [Fact]
    public Task ReadCursors_SessionDeleted_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(redis, _prefix, (store, _) => store.DeleteSessionAsync("s-1", Ct));

    [Fact]
    public Task ReadCursors_SessionImportedOverIt_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(redis, _prefix, async (store, _) =>
            await store.Store.ImportSessionAsync((await store.GetSessionAsync("s-1", Ct))!, replaceExisting: true, Ct));

    [Fact]
    public Task ReadCursors_SessionRestoredOverIt_KeyHoldsTheArchivesCursors() =>
        RedisFeedScenarios.CursorKey_AfterARestore_HoldsTheArchivesCursorsAsync(redis, _prefix);

    [Fact]
    public Task ReadCursors_SessionEvictedUnderMaxSessions_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(
            redis,
            _prefix,
            async (store, clock) =>
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                await store.CreateSessionAsync("s-2", ["Agent-1"], cancellationToken: Ct);
            },
            options => (options.MaxSessions, options.SessionLimitPolicy) = (1, SessionLimitPolicy.EvictLeastRecentlyActive));

    [Fact]
    public Task ReadCursors_SessionRemovedByRetention_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(
            redis,
            _prefix,
            async (store, clock) =>
            {
                clock.Advance(TimeSpan.FromDays(2));
                await store.CleanupAsync(Ct);
            },
            options => options.CleanupDays = 1);
}

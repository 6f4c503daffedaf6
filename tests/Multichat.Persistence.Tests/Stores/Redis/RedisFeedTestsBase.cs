namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The Redis store's feed hints and read-cursor key (see <see cref="RedisFeedScenarios"/>), on each deployment a
/// derived class names: classic pub/sub on a single node, sharded on a cluster.
/// </summary>
/// <param name="fixture">The servers.</param>
/// <param name="hintCommand">The command an append's hint goes by there (<c>publish</c> or <c>spublish</c>).</param>
public abstract class RedisFeedTestsBase(RedisFixture fixture, string hintCommand) : IAsyncLifetime
{
    private readonly string _prefix = "h" + Guid.NewGuid().ToString("N")[..12] + ":";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        fixture.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await fixture.DeleteKeysAsync(_prefix);

    [Fact]
    public Task Watch_AppendFromAnotherMultiplexer_ArrivesByItsHintWithoutAPoll() =>
        RedisFeedScenarios.AppendFromAnotherMultiplexer_ReachesTheWatcherByItsHintAsync(fixture, _prefix);

    [Fact]
    public Task AddMessage_PublishesItsHint_WithTheDeploymentsCommand() => RedisFeedScenarios.Append_PublishesItsHintWithAsync(fixture, _prefix, hintCommand);

    [Fact]
    public Task Listen_SubscriptionConnectionKilled_WakesTheWatcherWhenRestored() =>
        RedisFeedScenarios.SubscriptionConnectionKilled_WakesEveryWatcherWhenRestoredAsync(fixture, _prefix);

    [Fact]
    public Task Watch_AppendWhileTheSubscriptionIsDown_StillArrives() =>
        RedisFeedScenarios.AppendWhileTheSubscriptionIsDown_StillReachesTheWatcherAsync(fixture, _prefix);

    [Fact]
    public Task MarkRead_StoredCursorDamaged_IsReportedAndChangesNothing() =>
        RedisFeedScenarios.MarkRead_CursorStoredAsAnotherType_IsReportedAsDamageAndChangesNothingAsync(fixture, _prefix);

    [Fact]
    public Task ReadCursors_SessionDeleted_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(fixture, _prefix, (store, _) => store.DeleteSessionAsync("s-1", Ct));

    [Fact]
    public Task ReadCursors_SessionImportedOverIt_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(fixture, _prefix, async (store, _) =>
            await store.Store.ImportSessionAsync((await store.GetSessionAsync("s-1", Ct))!, replaceExisting: true, Ct));

    [Fact]
    public Task ReadCursors_SessionRestoredOverIt_KeyHoldsTheArchivesCursors() =>
        RedisFeedScenarios.CursorKey_AfterARestore_HoldsTheArchivesCursorsAsync(fixture, _prefix);

    [Fact]
    public Task ReadCursors_SessionEvictedUnderMaxSessions_KeyGoes() =>
        RedisFeedScenarios.CursorKey_GoesWithTheSessionAsync(
            fixture,
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
            fixture,
            _prefix,
            async (store, clock) =>
            {
                clock.Advance(TimeSpan.FromDays(2));
                await store.CleanupAsync(Ct);
            },
            options => options.CleanupDays = 1);
}

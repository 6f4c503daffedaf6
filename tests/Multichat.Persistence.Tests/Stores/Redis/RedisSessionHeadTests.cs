using FluentAssertions;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Redis;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The head check on records the conformance suite cannot make: one written before epochs existed (no <c>e</c> field)
/// and one that lost a counter the head reads.
/// </summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisSessionHeadTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "h" + Guid.NewGuid().ToString("N")[..12] + ":";
    private SessionPersistence? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SessionPersistence Store => _store ??= SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Redis,
        ConnectionString = redis.ConnectionString,
        RedisKeyPrefix = _prefix,
    });

    private ISessionHeadSource Heads => (ISessionHeadSource)SessionStorePipeline.Unwrap(Store.Store);

    private IDatabase Db => redis.Admin.GetDatabase();

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await redis.DeleteKeysAsync(_prefix);
    }

    [Fact]
    public async Task RecordWithoutEpoch_AWriteOfAnEarlierBuild_HasEpochZeroUntilItsNextLife()
    {
        await SeedAsync("s-1");
        await Db.HashDeleteAsync(Meta("s-1"), "e");

        (await Heads.GetHeadAsync("s-1", Ct)).Should().Be(new SessionHead(Epoch: 0, Version: 1, LastSequence: 2, MessageCount: 2));
        var session = (await Store.GetSessionAsync("s-1", Ct))!;
        await Store.UpdateSessionAsync(session with { Title = "renamed" }, Ct);
        (await Heads.GetHeadAsync("s-1", Ct))!.Value.Epoch.Should().Be(0, "an update is the same life");

        await Store.DeleteSessionAsync("s-1", Ct);
        await Store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        (await Heads.GetHeadAsync("s-1", Ct))!.Value.Epoch.Should().NotBe(0);
    }

    [Theory]
    [InlineData("v")]
    [InlineData("l")]
    [InlineData("n")]
    public async Task RecordMissingACounter_IsCorruptedNotACounterOfZero(string field)
    {
        await SeedAsync("s-1");
        await Db.HashDeleteAsync(Meta("s-1"), field);

        await FluentActions.Awaiting(() => Heads.GetHeadAsync("s-1", Ct)).Should().ThrowAsync<StoreCorruptedException>();
    }

    private RedisKey Meta(string sessionId) => new RedisKeys(_prefix).For(sessionId).Meta;

    private async Task SeedAsync(string sessionId)
    {
        await Store.CreateSessionAsync(sessionId, ["a"], cancellationToken: Ct);
        await Store.AddMessagesAsync(sessionId, [Message(sessionId, "m-1"), Message(sessionId, "m-2")], Ct);
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = "content of " + id };
}

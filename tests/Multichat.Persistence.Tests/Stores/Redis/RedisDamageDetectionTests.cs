using FluentAssertions;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// Damage the store must notice by itself: an id map that was deleted or emptied (a retry of an acknowledged id would
/// be stored twice), and damaged records that the health check reads back from its bounded sample.
/// </summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisDamageDetectionTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "d" + Guid.NewGuid().ToString("N")[..12] + ":";
    private SessionPersistence? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SessionPersistence Store => _store ??= SessionPersistence.Create(Options());

    private IDatabase Db => redis.Admin.GetDatabase();

    private SessionKeys Keys(string sessionId) => new RedisKeys(_prefix).For(sessionId);

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

    [Theory]
    [InlineData("deleted")]
    [InlineData("emptied of two ids")]
    public async Task AddMessage_IdMapDamagedThenRetryOfAnAcknowledgedId_StoresNothingTwice(string damage)
    {
        await SeedAsync("s-1", 5);
        if (damage == "deleted")
        {
            await Db.KeyDeleteAsync(Keys("s-1").Ids);
        }
        else
        {
            await Db.HashDeleteAsync(Keys("s-1").Ids, ["m-2", "m-5"]);
        }

        var retried = await Store.AddMessagesAsync("s-1", [Message("s-1", "m-2"), Message("s-1", "m-5"), Message("s-1", "m-6")], Ct);

        retried.Select(m => m.Sequence).Should().Equal([2L, 5L, 6L], "the acknowledged ids answer their stored originals; only the new one is stored");
        var all = await Store.GetMessagesAsync("s-1", 100, Ct);
        all.Select(m => m.Id).Should().Equal("m-1", "m-2", "m-3", "m-4", "m-5", "m-6");
        (await Db.HashLengthAsync(Keys("s-1").Ids)).Should().Be(6, "the id map was rebuilt from the messages");
        (await Store.GetSessionAsync("s-1", Ct))!.MessageCount.Should().Be(6);
    }

    [Fact]
    public async Task AddMessage_IdMapAndMessagesDeleted_ThrowsStoreCorruptedAndStoresNothing()
    {
        await SeedAsync("s-1", 5);
        await Db.KeyDeleteAsync([Keys("s-1").Ids, Keys("s-1").Messages]);

        var append = () => Store.AddMessageAsync(Message("s-1", "m-2"), Ct);

        (await append.Should().ThrowAsync<StoreCorruptedException>()).Which.Message.Should().Contain("s-1");
        (await Db.KeyExistsAsync(Keys("s-1").Messages)).Should().BeFalse("nothing was written");
        (await Store.GetSessionAsync("s-1", Ct))!.LastSequence.Should().Be(5);
    }

    [Fact]
    public async Task ImportMessages_IdAlreadyStored_ThrowsArgumentAndWritesNothing()
    {
        await SeedAsync("s-1", 2);
        await using var raw = new RedisStore(StoreFactory.RedisOptions(Options()), NullLogger.Instance);

        var import = () => raw.ImportMessagesAsync("s-1", [Message("s-1", "m-9") with { Sequence = 3 }, Message("s-1", "m-1") with { Sequence = 4 }], Ct);

        await import.Should().ThrowAsync<ArgumentException>().WithMessage("*m-1*");
        (await Store.GetMessagesAsync("s-1", 100, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2");
        (await Db.HashLengthAsync(Keys("s-1").Ids)).Should().Be(2);
    }

    [Fact]
    public async Task CheckHealth_IntactSessions_IsHealthy()
    {
        await SeedAsync("s-1", 3);
        await SeedAsync("s-2", 3);

        var report = await Store.CheckHealthAsync(Ct);

        report.Status.Should().Be(StoreHealthStatus.Healthy, report.Description);
    }

    [Theory]
    [InlineData("record: last sequence garbage")]
    [InlineData("record: a string")]
    [InlineData("last message: garbage body")]
    [InlineData("messages: a string")]
    [InlineData("messages: one deleted")]
    [InlineData("ids: deleted")]
    public async Task CheckHealth_DamagedRecentSession_IsDegradedNamingThatSessionOnly(string damage)
    {
        await SeedAsync("bystander", 3);
        await SeedAsync("victim", 3);
        var keys = Keys("victim");
        switch (damage)
        {
            case "record: last sequence garbage":
                await Db.HashSetAsync(keys.Meta, "l", "garbage");
                break;
            case "record: a string":
                await Db.KeyDeleteAsync(keys.Meta);
                await Db.StringSetAsync(keys.Meta, "garbage");
                break;
            case "last message: garbage body":
                await Db.SortedSetRemoveRangeByScoreAsync(keys.Messages, 3, 3);
                await Db.SortedSetAddAsync(keys.Messages, "3\nm-3\n{bad", 3);
                break;
            case "messages: a string":
                await Db.KeyDeleteAsync(keys.Messages);
                await Db.StringSetAsync(keys.Messages, "garbage");
                break;
            case "messages: one deleted":
                await Db.SortedSetRemoveRangeByScoreAsync(keys.Messages, 2, 2);
                break;
            default:
                await Db.KeyDeleteAsync(keys.Ids);
                break;
        }

        var report = await Store.CheckHealthAsync(Ct);

        report.Status.Should().Be(StoreHealthStatus.Degraded, report.Description);
        report.Description.Should().Contain("'victim'").And.NotContain("'bystander'");
    }

    [Fact]
    public async Task CheckHealth_ManySessions_ReadsABoundedSample()
    {
        for (var i = 0; i < 100; i++)
        {
            await Store.CreateSessionAsync($"s-{i}", ["a"], cancellationToken: Ct);
        }

        await Store.CheckHealthAsync(Ct); // loads the scripts (a NOSCRIPT retry is not the steady cost)
        var before = await redis.CommandStatsAsync();
        await Store.CheckHealthAsync(Ct);
        var after = await redis.CommandStatsAsync();

        var scripts = after.GetValueOrDefault("evalsha") - before.GetValueOrDefault("evalsha") + after.GetValueOrDefault("eval") - before.GetValueOrDefault("eval");
        scripts.Should().BeLessThanOrEqualTo(2 * RedisKeys.BucketCount, "statistics and the sample: one script per bucket each, whatever the number of sessions");
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = "content of " + id };

    private SessionPersistenceOptions Options() => new() { StorageType = StorageType.Redis, ConnectionString = redis.ConnectionString, RedisKeyPrefix = _prefix };

    private async Task SeedAsync(string sessionId, int messages)
    {
        await Store.CreateSessionAsync(sessionId, ["a"], cancellationToken: Ct);
        await Store.AddMessagesAsync(sessionId, Enumerable.Range(1, messages).Select(i => Message(sessionId, $"m-{i}")).ToArray(), Ct);
    }
}

using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Redis;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>Encryption on Redis: no value of any key holds plain text of the marker, and a title moved by hand with
/// HSET to another session fails with the typed error.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisProtectionTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "prot-" + Guid.NewGuid().ToString("N")[..10] + ":";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await redis.DeleteKeysAsync(_prefix);

    [Fact]
    public async Task EveryValue_HoldsNoPlainTextOfTheMarker()
    {
        await using (var store = SessionPersistence.Create(Options(encrypt: true)))
        {
            await EncryptionTests.WriteMarkedSessionAsync(store);
        }

        (await ValuesAsync()).Should().NotContain(v => v.Contains(EncryptionTests.MarkerText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryValue_WithoutEncryption_DoesHoldTheMarker()
    {
        // The scan's own check.
        await using (var store = SessionPersistence.Create(Options(encrypt: false)))
        {
            await EncryptionTests.WriteMarkedSessionAsync(store);
        }

        (await ValuesAsync()).Should().Contain(v => v.Contains(EncryptionTests.MarkerText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TitleMovedWithHset_FailsWithTheTypedError()
    {
        await using var store = SessionPersistence.Create(Options(encrypt: true));
        await store.CreateSessionAsync("s-1", ["Agent-1"], title: "first title", cancellationToken: Ct);
        await store.CreateSessionAsync("s-2", ["Agent-1"], title: "second title", cancellationToken: Ct);
        var db = redis.Admin.GetDatabase();
        var keys = Keys();
        var from = keys.Single(k => k.EndsWith(":m:s-1", StringComparison.Ordinal));
        var to = keys.Single(k => k.EndsWith(":m:s-2", StringComparison.Ordinal));

        await db.HashSetAsync(to, "t", await db.HashGetAsync(from, "t"));

        var read = () => store.GetSessionAsync("s-2", Ct);
        var failure = (await read.Should().ThrowAsync<DecryptionFailedException>()).Which;
        failure.SessionId.Should().Be("s-2");
        failure.Message.Should().Contain("title").And.NotContain("first title");
        (await store.GetSessionAsync("s-1", Ct))!.Title.Should().Be("first title");
    }

    private SessionPersistenceOptions Options(bool encrypt)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Redis, ConnectionString = redis.ConnectionString, RedisKeyPrefix = _prefix };
        if (encrypt)
        {
            ProtectionSettings.Encrypt(options);
        }

        return options;
    }

    private List<string> Keys()
    {
        var server = redis.Admin.GetServers().Single();
        return [.. server.Keys(pattern: _prefix + "*", pageSize: 500).Select(k => k.ToString())];
    }

    /// <summary>Every key name and every value of every key under the prefix, whatever its type.</summary>
    private async Task<List<string>> ValuesAsync()
    {
        var db = redis.Admin.GetDatabase();
        var values = new List<string>();
        foreach (var key in Keys())
        {
            values.Add(key);
            switch (await db.KeyTypeAsync(key))
            {
                case RedisType.String:
                    values.Add((await db.StringGetAsync(key)).ToString());
                    break;
                case RedisType.Hash:
                    values.AddRange((await db.HashGetAllAsync(key)).SelectMany(e => new[] { e.Name.ToString(), e.Value.ToString() }));
                    break;
                case RedisType.SortedSet:
                    values.AddRange((await db.SortedSetRangeByRankAsync(key)).Select(v => v.ToString()));
                    break;
                case RedisType.Set:
                    values.AddRange((await db.SetMembersAsync(key)).Select(v => v.ToString()));
                    break;
                case RedisType.List:
                    values.AddRange((await db.ListRangeAsync(key)).Select(v => v.ToString()));
                    break;
            }
        }

        return values;
    }
}

using FluentAssertions;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>What the conformance suite cannot see of the Redis store on a single node: round trips, key layout, index repair.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisStoreTests(RedisSingleNodeFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "u" + Guid.NewGuid().ToString("N")[..12] + ":";
    private readonly List<SessionPersistence> _opened = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        await redis.DeleteKeysAsync(_prefix);
    }

    [Fact]
    public async Task AddMessage_OneAppend_IsOneServerCommand()
    {
        var store = Open();
        await store.CreateSessionAsync("s-1", ["a", "b"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("warm-up"), Ct); // connects and loads the script

        var commands = await RedisMonitor.ClientCommandsAsync(redis.Admin, async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await store.AddMessageAsync(Message($"m-{i}"), Ct);
            }
        });

        commands.Should().HaveCount(20, "each append is one command:\n" + string.Join('\n', commands));
        commands.Should().OnlyContain(c => c.Contains("\"evalsha\"", StringComparison.OrdinalIgnoreCase), "the script runs by its SHA once loaded");
    }

    [Fact]
    public async Task AddMessages_Batch_IsOneServerCommand()
    {
        var store = Open();
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("warm-up"), Ct);

        var commands = await RedisMonitor.ClientCommandsAsync(
            redis.Admin,
            () => store.AddMessagesAsync("s-1", Enumerable.Range(0, 100).Select(i => Message($"b-{i}")).ToArray(), Ct));

        commands.Should().ContainSingle();
    }

    [Fact]
    public async Task GetMessages_LatestPage_IsOneServerCommand()
    {
        var store = Open();
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", Enumerable.Range(0, 100).Select(i => Message($"m-{i}")).ToArray(), Ct);
        await store.GetMessagesAsync("s-1", 50, Ct);
        IReadOnlyList<ChatMessage> latest = [];

        var commands = await RedisMonitor.ClientCommandsAsync(redis.Admin, async () => latest = await store.GetMessagesAsync("s-1", 50, Ct));

        latest.Should().HaveCount(50);
        commands.Should().ContainSingle();
    }

    [Fact]
    public async Task AddMessage_ServerForgotTheScripts_SendsTheScriptAgainAndSucceeds()
    {
        var store = Open();
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1"), Ct);
        foreach (var server in redis.Admin.GetServers())
        {
            await server.ScriptFlushAsync(); // as after a restart or a failover
        }

        List<string> commands = [];
        commands = await RedisMonitor.ClientCommandsAsync(redis.Admin, async () => (await store.AddMessageAsync(Message("m-2"), Ct)).Sequence.Should().Be(2));

        var next = await RedisMonitor.ClientCommandsAsync(redis.Admin, () => store.AddMessageAsync(Message("m-3"), Ct));

        commands.Select(c => c.Split(' ')[3]).Should().StartWith("\"EVALSHA\"").And.Contain("\"EVAL\"", "NOSCRIPT makes the store send the script text once");
        next.Select(c => c.Split(' ')[3]).Should().Equal("\"EVALSHA\"");
        (await store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2", "m-3");
    }

    [Theory]
    [InlineData("s-1")]
    [InlineData("{tag}")]
    [InlineData("a}{b")]
    [InlineData("multichat:{b00}:m:x")]
    public async Task Session_AllKeysIncludingItsIndexes_ShareOneHashSlot(string sessionId)
    {
        var store = Open();
        await store.CreateSessionAsync(sessionId, ["{p}", "q"], cancellationToken: Ct);
        await store.AddMessagesAsync(sessionId, [Message("m-1", sessionId), Message("m-2", sessionId)], Ct);
        await store.MarkReadAsync(sessionId, "q", 1, Ct);

        var keys = await KeysAsync();

        keys.Should().HaveCountGreaterThanOrEqualTo(8, "meta, messages, ids, read cursors, recent, stats and two participant indexes");
        keys.Select(k => redis.Admin.HashSlot(k)).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task ListSessions_IndexEntryOfVanishedSession_IsSkippedAndRemoved()
    {
        var store = Open();
        await store.CreateSessionAsync("keep", ["p"], cancellationToken: Ct);
        await store.CreateSessionAsync("gone", ["p"], cancellationToken: Ct);
        var meta = (await KeysAsync()).Single(k => k.ToString().EndsWith(":m:gone", StringComparison.Ordinal));
        await redis.Admin.GetDatabase().KeyDeleteAsync(meta); // as if removed behind the store's back

        var page = await store.ListSessionsAsync(new SessionQuery { Participant = "p" }, Ct);
        var all = await store.ListSessionsAsync(cancellationToken: Ct);

        page.Sessions.Select(s => s.SessionId).Should().Equal("keep");
        all.Sessions.Select(s => s.SessionId).Should().Equal("keep");
        var recent = (await KeysAsync()).Single(k => k.ToString().EndsWith(":recent", StringComparison.Ordinal) && redis.Admin.HashSlot(k) == redis.Admin.HashSlot(meta));
        (await redis.Admin.GetDatabase().SortedSetScoreAsync(recent, "gone")).Should().BeNull("listing repairs the index it read");
    }

    [Fact]
    public async Task Message_StoredMember_IsReadableWithRedisCli()
    {
        var store = Open();
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1") with { Content = "héllo \"x\"" }, Ct);

        var messages = (await KeysAsync()).Single(k => k.ToString().EndsWith(":q:s-1", StringComparison.Ordinal));
        var member = (string)(await redis.Admin.GetDatabase().SortedSetRangeByRankAsync(messages)).Single()!;

        member.Should().StartWith("1\nm-1\n{").And.Contain("\"c\":\"héllo \\\"x\\\"\"");
    }

    [Fact]
    public async Task GetMessages_DamagedMember_ThrowsStoreCorruptedAndOtherSessionsStillWork()
    {
        var store = Open();
        await store.CreateSessionAsync("bad", ["a"], cancellationToken: Ct);
        await store.CreateSessionAsync("good", ["a"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1", "bad"), Ct);
        await store.AddMessageAsync(Message("m-1", "good"), Ct);
        var messages = (await KeysAsync()).Single(k => k.ToString().EndsWith(":q:bad", StringComparison.Ordinal));
        await redis.Admin.GetDatabase().SortedSetAddAsync(messages, "2\nm-2\n{not json", 2);

        var read = () => store.GetMessagesAsync("bad", 10, Ct);

        await read.Should().ThrowAsync<StoreCorruptedException>();
        (await store.GetMessagesAsync("good", 10, Ct)).Should().ContainSingle();
        (await store.ListSessionsAsync(cancellationToken: Ct)).Sessions.Should().HaveCount(2);
    }

    [Fact]
    public async Task ListSessions_DamagedSessionRecord_ListsTheOthersAndReadingItReportsIt()
    {
        var store = Open();
        await store.CreateSessionAsync("bad", ["a"], cancellationToken: Ct);
        await store.CreateSessionAsync("good", ["a"], cancellationToken: Ct);
        var meta = (await KeysAsync()).Single(k => k.ToString().EndsWith(":m:bad", StringComparison.Ordinal));
        await redis.Admin.GetDatabase().HashSetAsync(meta, "m", "{not json");

        var listed = await store.ListSessionsAsync(new SessionQuery { Participant = "a" }, Ct);
        var read = () => store.GetSessionAsync("bad", Ct);

        listed.Sessions.Select(s => s.SessionId).Should().Equal("good");
        await read.Should().ThrowAsync<StoreCorruptedException>();
    }

    [Fact]
    public async Task GetSession_KeyOfAnotherType_ThrowsStoreCorrupted()
    {
        var store = Open();
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        var meta = (await KeysAsync()).Single(k => k.ToString().EndsWith(":m:s-1", StringComparison.Ordinal));
        await redis.Admin.GetDatabase().StringSetAsync(meta, "not a hash");

        var read = () => store.GetSessionAsync("s-1", Ct);
        var append = () => store.AddMessageAsync(Message("m-1"), Ct);

        await read.Should().ThrowAsync<StoreCorruptedException>();
        await append.Should().ThrowAsync<StoreCorruptedException>();
    }

    [Theory]
    [InlineData("redis://localhost:6380", "localhost:6380", -1)]
    [InlineData("redis://10.1.2.3:6379/3", "10.1.2.3:6379", 3)]
    [InlineData("redis://cache.internal", "cache.internal:6379", -1)]
    public void Configure_RedisUrl_GivesEndPointDatabaseAndSafeDefaults(string url, string endPoint, int database)
    {
        var options = Persistence.Stores.Redis.RedisConnection.Configure(Persistence.Pipeline.StoreFactory.RedisOptions(new SessionPersistenceOptions { StoragePath = url }));

        options.EndPoints.Select(e => e switch
        {
            System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            System.Net.IPEndPoint ip => $"{ip.Address}:{ip.Port}",
            _ => e.ToString(),
        }).Should().Equal(endPoint);
        (options.DefaultDatabase ?? -1).Should().Be(database);
        options.AbortOnConnectFail.Should().BeFalse("a server that is down at start must not break start-up");
        options.AsyncTimeout.Should().Be(5000);
    }

    [Fact]
    public void Configure_ConnectionString_KeepsItsOwnTimeouts()
    {
        var options = Persistence.Stores.Redis.RedisConnection.Configure(Persistence.Pipeline.StoreFactory.RedisOptions(
            new SessionPersistenceOptions { ConnectionString = "h1:7000,h2:7001,asyncTimeout=250,password=secret", StoragePath = "ignored" }));

        options.EndPoints.Should().HaveCount(2);
        options.AsyncTimeout.Should().Be(250);
        options.SyncTimeout.Should().Be(5000);
        options.Password.Should().Be("secret");
        options.AbortOnConnectFail.Should().BeFalse();
    }

    [Theory]
    [InlineData("sessions")]
    [InlineData("http://host:6379")]
    [InlineData("redis://host:6379/zero")]
    public void Configure_NotARedisUrl_ThrowsArgumentExceptionNamingTheForm(string path)
    {
        var act = () => Persistence.Stores.Redis.RedisConnection.Configure(Persistence.Pipeline.StoreFactory.RedisOptions(new SessionPersistenceOptions { StoragePath = path }));

        act.Should().Throw<ArgumentException>().WithMessage("*redis://host*");
    }

    [Fact]
    public async Task AnOperation_ServerNotListening_ThrowsStoreUnavailableWithInnerException()
    {
        var port = RedisServerProcess.FreePort();
        await using var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = $"127.0.0.1:{port},connectTimeout=500,asyncTimeout=500,syncTimeout=500",
        });

        var act = () => store.GetSessionAsync("s-1", Ct);

        (await act.Should().ThrowAsync<StoreUnavailableException>()).Which.InnerException.Should().BeAssignableTo<Exception>()
            .Which.Should().Match<Exception>(e => e is RedisConnectionException || e is RedisTimeoutException);
    }

    private SessionPersistence Open()
    {
        var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = redis.ConnectionString,
            RedisKeyPrefix = _prefix,
        });
        _opened.Add(store);
        return store;
    }

    private async Task<List<RedisKey>> KeysAsync()
    {
        var keys = new List<RedisKey>();
        foreach (var server in redis.Admin.GetServers())
        {
            await foreach (var key in server.KeysAsync(pattern: _prefix + "*"))
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    private static ChatMessage Message(string id, string sessionId = "s-1") => new() { Id = id, SessionId = sessionId, Sender = "a", Content = "content of " + id };
}

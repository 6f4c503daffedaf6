using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>
/// What the read cache promises beyond the conformance suite: hot reads are served from memory (also right after this
/// instance's own append), another instance's completed write is in the next read, a session's new life is never
/// served from its old one, the bounds hold, and the options are validated by setting name.
/// </summary>
public sealed class ReadCacheTests : IAsyncDisposable
{
    private readonly List<SessionPersistence> _opened = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LatestPage_ReadTwice_IsServedFromMemoryTheSecondTime()
    {
        var store = OpenMemory();
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", Messages("s-1", 1, 30), Ct);
        var cache = CacheOf(store);

        var first = await store.GetMessagesAsync("s-1", 20, Ct);
        var second = await store.GetMessagesAsync("s-1", 20, Ct);

        second.Should().Equal(first);
        second.Select(m => m.Sequence).Should().Equal(Enumerable.Range(11, 20).Select(i => (long)i));
        (cache.Misses, cache.Hits).Should().Be((1, 1));
    }

    [Fact]
    public async Task APageOfExactlyMessagesPerSession_IsServedFromMemory_WithTheStoresNextCursor()
    {
        var store = OpenMemory(o => o.Cache.MessagesPerSession = 10);
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", Messages("s-1", 1, 30), Ct);
        var cache = CacheOf(store);
        var latest10 = new MessageQuery { Order = MessageOrder.NewestFirst, Limit = 10 };

        var first = await store.GetMessagesAsync("s-1", latest10, Ct);
        var second = await store.GetMessagesAsync("s-1", latest10, Ct);

        second.Messages.Should().Equal(first.Messages);
        second.Next.Should().Be(first.Next).And.NotBeNull();
        (cache.Misses, cache.Hits).Should().Be((1, 1));
    }

    [Fact]
    public async Task AgentLoop_ReadAppendRead_IsAHitWithTheNewMessage()
    {
        var store = OpenMemory();
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", Messages("s-1", 1, 10), Ct);
        var cache = CacheOf(store);
        await store.GetMessagesAsync("s-1", 5, Ct);

        for (var turn = 11; turn <= 15; turn++)
        {
            await store.AddMessageAsync(Message("s-1", turn), Ct);
            var latest = await store.GetMessagesAsync("s-1", 5, Ct);
            latest.Select(m => m.Id).Should().Equal(Enumerable.Range(turn - 4, 5).Select(i => $"m-{i}"));
        }

        (cache.Misses, cache.Hits).Should().Be((1, 5), "the append extends the cached window, and the head check confirms it");
    }

    [Fact]
    public async Task SessionRecord_IsCachedUntilItChanges()
    {
        var store = OpenMemory();
        await store.CreateSessionAsync("s-1", ["Agent-1"], "title", cancellationToken: Ct);
        var cache = CacheOf(store);

        var first = await store.GetSessionAsync("s-1", Ct);
        (await store.GetSessionAsync("s-1", Ct)).Should().BeSameAs(first);
        await store.UpdateSessionAsync(first! with { Title = "new" }, Ct);

        (await store.GetSessionAsync("s-1", Ct))!.Title.Should().Be("new");
        (cache.Misses, cache.Hits).Should().Be((2, 1));
    }

    [Fact]
    public async Task OlderPages_AreTheStoresAnswer()
    {
        var (writer, reader) = TwoMemoryInstances(window: 8);
        var plain = new SessionPersistence(writer.Store, new SessionPersistenceOptions(), ownsStore: false);
        _opened.Add(plain);
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await writer.AddMessagesAsync("s-1", Messages("s-1", 1, 30), Ct);

        foreach (var order in new[] { MessageOrder.NewestFirst, MessageOrder.OldestFirst })
        {
            var query = new MessageQuery { Limit = 7, Order = order };
            var (cached, expected) = (await AllPagesAsync(reader, query), await AllPagesAsync(plain, query));
            cached.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        }
    }

    [Fact]
    public async Task WritesByAnotherInstance_AreInTheNextRead()
    {
        var (writer, reader) = TwoMemoryInstances(window: 8);
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await writer.AddMessagesAsync("s-1", Messages("s-1", 1, 5), Ct);
        (await reader.GetMessagesAsync("s-1", 7, Ct)).Should().HaveCount(5);

        await writer.AddMessageAsync(Message("s-1", 6), Ct);
        (await reader.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().EndWith("m-6");

        await writer.TrimMessagesAsync("s-1", 2, Ct);
        (await reader.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().Equal("m-5", "m-6");

        var session = (await writer.GetSessionAsync("s-1", Ct))!;
        await writer.UpdateSessionAsync(session with { Title = "changed" }, Ct);
        (await reader.GetSessionAsync("s-1", Ct))!.Title.Should().Be("changed");

        await writer.DeleteSessionAsync("s-1", Ct);
        (await reader.GetSessionAsync("s-1", Ct)).Should().BeNull();
        var missing = () => reader.GetMessagesAsync("s-1", 7, Ct);
        await missing.Should().ThrowAsync<SessionNotFoundException>();
    }

    [Fact]
    public async Task RecreatedSession_WithTheSameCounts_IsNeverServedFromItsOldLife()
    {
        var (writer, reader) = TwoMemoryInstances(window: 8);
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await writer.AddMessagesAsync("s-1", Messages("s-1", 1, 3), Ct);
        await reader.GetMessagesAsync("s-1", 7, Ct);
        await reader.GetSessionAsync("s-1", Ct);

        await writer.DeleteSessionAsync("s-1", Ct);
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await writer.AddMessagesAsync("s-1", Messages("s-1", 1, 3, "new-"), Ct);

        (await reader.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().Equal("new-1", "new-2", "new-3");
        (await reader.GetSessionAsync("s-1", Ct))!.CreatedAt.Should().Be((await writer.GetSessionAsync("s-1", Ct))!.CreatedAt);
    }

    [Fact]
    public async Task RandomWritesByAnotherInstance_EveryReadIsWhatTheStoreHolds()
    {
        // A seeded mix of every kind of write by one instance; after each, the caching instance's next reads (the
        // latest page, an older page, the record) equal a cache-less read of the same store.
        var (writer, reader) = TwoMemoryInstances(window: 8);
        var plain = new SessionPersistence(writer.Store, new SessionPersistenceOptions(), ownsStore: false);
        _opened.Add(plain);
        var random = new Random(1234);
        var next = 0;
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        for (var step = 0; step < 400; step++)
        {
            switch (random.Next(10))
            {
                case < 5:
                    await writer.AddMessagesAsync("s-1", Messages("s-1", next + 1, random.Next(1, 4)), Ct);
                    next += 3;
                    break;
                case 5:
                    await writer.TrimMessagesAsync("s-1", random.Next(0, 12), Ct);
                    break;
                case 6:
                    var session = (await writer.GetSessionAsync("s-1", Ct))!;
                    await writer.UpdateSessionAsync(session with { Title = $"t-{step}" }, Ct);
                    break;
                case 7:
                    await writer.DeleteSessionAsync("s-1", Ct);
                    await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
                    next = 0;
                    break;
                default:
                    await reader.AddMessageAsync(Message("s-1", ++next, "r-"), Ct);
                    break;
            }

            for (var read = 0; read < 2; read++)
            {
                (await reader.GetMessagesAsync("s-1", 5, Ct)).Should().BeEquivalentTo(await plain.GetMessagesAsync("s-1", 5, Ct), o => o.WithStrictOrdering(), $"step {step}");
                var older = new MessageQuery { BeforeSequence = Math.Max(1, (await plain.GetSessionAsync("s-1", Ct))!.LastSequence - 3), Limit = 4 };
                (await reader.GetMessagesAsync("s-1", older, Ct)).Should().BeEquivalentTo(await plain.GetMessagesAsync("s-1", older, Ct), $"step {step}");
                (await reader.GetSessionAsync("s-1", Ct)).Should().BeEquivalentTo(await plain.GetSessionAsync("s-1", Ct), $"step {step}");
            }
        }

        CacheOf(reader).Hits.Should().BeGreaterThan(0, "the test must exercise cached answers, not only misses");
    }

    [Fact]
    public async Task MaxStaleness_AnotherInstancesWrite_ShowsOnceTheBoundHasPassed()
    {
        var clock = new FakeTimeProvider();
        var (writer, reader) = TwoMemoryInstances(window: 8, o => (o.Cache.MaxStaleness, o.TimeProvider) = (TimeSpan.FromSeconds(1), clock));
        await writer.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await writer.AddMessagesAsync("s-1", Messages("s-1", 1, 5), Ct);
        (await reader.GetMessagesAsync("s-1", 7, Ct)).Should().HaveCount(5);
        var cache = CacheOf(reader);

        await writer.AddMessageAsync(Message("s-1", 6), Ct);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        (await reader.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().Equal(
            ["m-1", "m-2", "m-3", "m-4", "m-5"], "within the bound the reader may serve what the store held when it last checked");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        (await reader.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().EndWith("m-6");

        await writer.DeleteSessionAsync("s-1", Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        var missing = () => reader.GetMessagesAsync("s-1", 7, Ct);
        await missing.Should().ThrowAsync<SessionNotFoundException>();
        (cache.Hits, cache.Misses).Should().Be((1, 3));
    }

    [Fact]
    public async Task MaxStaleness_OwnWrites_AreAlwaysInTheNextRead()
    {
        var clock = new FakeTimeProvider();
        var store = OpenMemory(o => (o.Cache.MaxStaleness, o.TimeProvider) = (TimeSpan.FromHours(1), clock));
        await store.CreateSessionAsync("s-1", ["Agent-1"], "title", cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", Messages("s-1", 1, 5), Ct);
        await store.GetMessagesAsync("s-1", 7, Ct);
        var session = (await store.GetSessionAsync("s-1", Ct))!;

        await store.AddMessageAsync(Message("s-1", 6), Ct);
        (await store.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().EndWith("m-6");

        await store.UpdateSessionAsync(session with { Title = "changed" }, Ct);
        (await store.GetSessionAsync("s-1", Ct))!.Title.Should().Be("changed");

        await store.TrimMessagesAsync("s-1", 2, Ct);
        (await store.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().Equal("m-5", "m-6");

        await store.DeleteSessionAsync("s-1", Ct);
        (await store.GetSessionAsync("s-1", Ct)).Should().BeNull();
    }

    [Fact]
    public async Task MaxStaleness_OwnAppendAfterAnotherInstancesTrim_NeverServesAMixOfTwoMoments()
    {
        var clock = new FakeTimeProvider();
        var (other, reader) = TwoMemoryInstances(window: 8, o => (o.Cache.MaxStaleness, o.TimeProvider) = (TimeSpan.FromHours(1), clock));
        await other.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await other.AddMessagesAsync("s-1", Messages("s-1", 1, 5), Ct);
        (await reader.GetMessagesAsync("s-1", 7, Ct)).Should().HaveCount(5);

        await other.TrimMessagesAsync("s-1", 0, Ct);
        await reader.AddMessageAsync(Message("s-1", 6), Ct);

        (await reader.GetMessagesAsync("s-1", 7, Ct)).Select(m => m.Id).Should().Equal(["m-6"], "the store holds only m-6 now; an extended window is checked before it is served");
    }

    [Fact]
    public async Task MaxStaleness_ACancelledRead_FailsEvenWhenMemoryCouldAnswer()
    {
        var store = OpenMemory(o => o.Cache.MaxStaleness = TimeSpan.FromHours(1));
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.GetMessagesAsync("s-1", 7, Ct);

        var read = () => store.GetMessagesAsync("s-1", 7, new CancellationToken(canceled: true));

        await read.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Bounds_HoldAfterEveryRead()
    {
        var store = OpenMemory(o =>
        {
            o.Cache.MaxSessions = 3;
            o.Cache.MaxBytes = 64 * 1024;
        });
        var cache = CacheOf(store);
        var big = new string('x', 4_000);
        for (var i = 0; i < 10; i++)
        {
            await store.CreateSessionAsync($"s-{i}", ["Agent-1"], cancellationToken: Ct);
            await store.AddMessagesAsync($"s-{i}", Messages($"s-{i}", 1, 20, content: big), Ct);
            (await store.GetMessagesAsync($"s-{i}", 10, Ct)).Should().HaveCount(10);
            await store.GetSessionAsync($"s-{i}", Ct);

            cache.Entries.Count.Should().BeLessThanOrEqualTo(3);
            cache.Entries.Bytes.Should().BeLessThanOrEqualTo(64 * 1024);
        }

        cache.Entries.Count.Should().BeGreaterThan(0, "entries that fit are kept");
    }

    [Theory]
    [InlineData("Cache:MaxSessions", "0", "Cache:MaxSessions is 0")]
    [InlineData("Cache:MessagesPerSession", "20000", "Cache:MessagesPerSession is 20000")]
    [InlineData("Cache:MaxBytes", "100", "Cache:MaxBytes is 100")]
    [InlineData("Cache:MaxStaleness", "-00:00:01", "Cache:MaxStaleness is -00:00:01")]
    [InlineData("Cache:MaxStaleness", "02:00:00", "Cache:MaxStaleness is 02:00:00")]
    public void Configuration_BadCacheSetting_FailsNamingIt(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["StorageType"] = "Memory", ["Cache:Enabled"] = "true", [key] = value })
            .Build();
        using var provider = new ServiceCollection().AddSessionPersistence(configuration).BuildServiceProvider();

        var act = () => provider.GetRequiredService<SessionPersistence>();

        act.Should().Throw<OptionsValidationException>().WithMessage($"*{expected}*");
    }

    [Fact]
    public void Configuration_CacheGroup_Binds()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["StorageType"] = "Memory", ["Cache:Enabled"] = "true", ["Cache:MaxSessions"] = "7", ["Cache:MaxBytes"] = "1048576", ["Cache:MessagesPerSession"] = "9",
                ["Cache:MaxStaleness"] = "00:00:00.250",
            })
            .Build();
        using var provider = new ServiceCollection().AddSessionPersistence(configuration).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value.Cache;

        (options.Enabled, options.MaxSessions, options.MaxBytes, options.MessagesPerSession, options.MaxStaleness)
            .Should().Be((true, 7, 1048576L, 9, TimeSpan.FromMilliseconds(250)));
        provider.GetRequiredService<SessionPersistence>().Store.Should().Match<ISessionStore>(s => SessionStorePipeline.Layers(s).Any(l => l is CachingSessionStore));
    }

    [Fact]
    public void CacheOff_IsNotInTheChain()
    {
        var store = Open(new SessionPersistenceOptions { StorageType = StorageType.Memory });

        SessionStorePipeline.Layers(store.Store).Should().NotContain(l => l is CachingSessionStore);
    }

    [Fact]
    public void CacheOverAStoreThatCannotReportHeads_IsRefusedWithAClearMessage()
    {
        var custom = ForwardingStore.Over(Open(new SessionPersistenceOptions { StorageType = StorageType.Memory }).Store);

        var act = () => new SessionPersistence(custom, new SessionPersistenceOptions { Cache = { Enabled = true } }, ownsStore: false);

        act.Should().Throw<InvalidOperationException>().WithMessage("*Cache:Enabled*cannot report session heads*");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }
    }

    private SessionPersistence OpenMemory(Action<SessionPersistenceOptions>? configure = null)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory, Cache = { Enabled = true } };
        configure?.Invoke(options);
        return Open(options);
    }

    private SessionPersistence Open(SessionPersistenceOptions options)
    {
        var store = SessionPersistence.Create(options);
        _opened.Add(store);
        return store;
    }

    /// <summary>Two instances, each with its own cache, over one Memory store: as two processes over one database.</summary>
    private (SessionPersistence Writer, SessionPersistence Reader) TwoMemoryInstances(int window, Action<SessionPersistenceOptions>? configureReader = null)
    {
        var writer = OpenMemory(o => o.Cache.MessagesPerSession = window);
        var readerOptions = new SessionPersistenceOptions { Cache = { Enabled = true, MessagesPerSession = window } };
        configureReader?.Invoke(readerOptions);
        var reader = new SessionPersistence(writer.Store, readerOptions, ownsStore: false);
        _opened.Add(reader);
        return (writer, reader);
    }

    private static async Task<List<ChatMessage>> AllPagesAsync(SessionPersistence store, MessageQuery query)
    {
        var all = new List<ChatMessage>();
        for (MessageQuery? next = query; next is not null;)
        {
            var page = await store.GetMessagesAsync("s-1", next, Ct);
            all.AddRange(page.Messages);
            next = page.Next;
        }

        return all;
    }

    private static CachingSessionStore CacheOf(SessionPersistence store) => SessionStorePipeline.Layers(store.Store).OfType<CachingSessionStore>().Single();

    private static ChatMessage Message(string sessionId, int number, string prefix = "m-", string? content = null) =>
        new() { Id = $"{prefix}{number}", SessionId = sessionId, Sender = "Agent-1", Content = content ?? $"turn {number}" };

    private static ChatMessage[] Messages(string sessionId, int first, int count, string prefix = "m-", string? content = null) =>
        [.. Enumerable.Range(first, count).Select(i => Message(sessionId, i, prefix, content))];

    /// <summary>An application's own store: a plain forwarder (no pipeline layer, so nothing unwraps it), which reports no heads.</summary>
    public class ForwardingStore : System.Reflection.DispatchProxy
    {
        private ISessionStore _inner = null!;

        public static ISessionStore Over(ISessionStore inner)
        {
            var proxy = Create<ISessionStore, ForwardingStore>();
            ((ForwardingStore)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args) => targetMethod!.Invoke(_inner, args);
    }
}

using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The cache coherence test on Redis, the reader another instance with its own multiplexer (as another
/// machine would be).</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisCacheCoherenceTests(RedisSingleNodeFixture redis) : CacheCoherenceTests
{
    private readonly string _prefix = "coherence-" + Guid.NewGuid().ToString("N")[..8] + ":";

    public override ValueTask InitializeAsync()
    {
        redis.Require();
        return base.InitializeAsync();
    }

    protected override SessionPersistenceOptions WriterOptions() =>
        new() { StorageType = StorageType.Redis, ConnectionString = redis.ConnectionString, RedisKeyPrefix = _prefix };

    protected override Task<ICoherenceReader> StartReaderAsync(string sessionId)
    {
        var options = WriterOptions();
        options.Cache.Enabled = true;
        options.Cache.MessagesPerSession = 8;
        return Task.FromResult<ICoherenceReader>(new InProcessCoherenceReader(SessionPersistence.Create(options), sessionId));
    }

    public override async ValueTask DisposeAsync()
    {
        await redis.DeleteKeysAsync(_prefix);
        await base.DisposeAsync();
    }
}

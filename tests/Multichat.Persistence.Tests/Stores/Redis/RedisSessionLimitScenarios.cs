using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The MaxSessions scenarios run against both deployments (a single node and a cluster), each under its own key prefix.</summary>
internal sealed class RedisSessionLimitScenarios(RedisFixture redis, string prefix) : IAsyncDisposable
{
    private readonly List<SessionPersistence> _opened = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The store-wide count key (see RedisKeys).</summary>
    public RedisKey CountKey => prefix + "{sessions}:count";

    public async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        await redis.DeleteKeysAsync(prefix);
    }

    public SessionPersistence Open(int? maxSessions = null)
    {
        var store = SessionPersistence.Create(Options(maxSessions));
        _opened.Add(store);
        return store;
    }

    /// <summary>4 worker processes × 25 creates under MaxSessions = 50: exactly 50 are created and stored.</summary>
    public Task FourProcessesRaceAsync() =>
        SessionLimitRace.RunAsync("Redis", redis.ConnectionString, 4, 25, 50, () => SessionPersistence.Create(Options(null)), prefix);

    /// <summary>4 worker processes × 15 creates under MaxSessions = 20, evicting: all succeed, 20 stored.</summary>
    public Task FourProcessesEvictingAsync() =>
        SessionLimitRace.RunEvictingAsync("Redis", redis.ConnectionString, 4, 15, 20, () => SessionPersistence.Create(Options(null)), prefix);

    /// <summary>At the limit a create is refused; after a delete one more create succeeds, and only one.</summary>
    public async Task DeleteFreesASlotAsync()
    {
        var store = Open(maxSessions: 3);
        for (var i = 0; i < 3; i++)
        {
            await store.CreateSessionAsync($"s-{i}", ["a"], cancellationToken: Ct);
        }

        var refused = () => store.CreateSessionAsync("s-3", ["a"], cancellationToken: Ct);
        await refused.Should().ThrowAsync<QuotaExceededException>();

        (await store.DeleteSessionAsync("s-1", Ct)).Should().BeTrue();
        await store.CreateSessionAsync("s-3", ["a"], cancellationToken: Ct);
        var full = () => store.CreateSessionAsync("s-4", ["a"], cancellationToken: Ct);

        await full.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(3);
        (await store.GetSessionAsync("s-3", Ct)).Should().NotBeNull();
        (await store.GetSessionAsync("s-4", Ct)).Should().BeNull("a refused create stores nothing");
    }

    /// <summary>Sessions stored while there was no count key (older data, or the key removed) are counted.</summary>
    public async Task MissingCountIsInitialisedAsync()
    {
        var unlimited = Open();
        for (var i = 0; i < 4; i++)
        {
            await unlimited.CreateSessionAsync($"old-{i}", ["a"], cancellationToken: Ct);
        }

        await redis.Admin.GetDatabase().KeyDeleteAsync(CountKey);
        var limited = Open(maxSessions: 5);

        await limited.CreateSessionAsync("new-0", ["a"], cancellationToken: Ct);
        var refused = () => limited.CreateSessionAsync("new-1", ["a"], cancellationToken: Ct);

        await refused.Should().ThrowAsync<QuotaExceededException>();
        (await limited.GetStatisticsAsync(Ct)).SessionCount.Should().Be(5);
    }

    /// <summary>Imports and duplicate creates keep the count exact: an import adds one, a replace or a refused create none.</summary>
    public async Task ImportsAndDuplicatesKeepTheCountAsync()
    {
        var store = Open(maxSessions: 3);
        await store.CreateSessionAsync("s-0", ["a"], cancellationToken: Ct);
        var duplicate = () => store.CreateSessionAsync("s-0", ["a"], cancellationToken: Ct);
        await duplicate.Should().ThrowAsync<SessionAlreadyExistsException>();
        var imported = (await store.GetSessionAsync("s-0", Ct))! with { SessionId = "s-1" };
        await store.Store.ImportSessionAsync(imported, replaceExisting: false, Ct);
        await store.Store.ImportSessionAsync(imported, replaceExisting: true, Ct);

        await store.CreateSessionAsync("s-2", ["a"], cancellationToken: Ct);
        var refused = () => store.CreateSessionAsync("s-3", ["a"], cancellationToken: Ct);

        await refused.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(3);
    }

    private SessionPersistenceOptions Options(int? maxSessions) => new()
    {
        StorageType = StorageType.Redis,
        ConnectionString = redis.ConnectionString,
        RedisKeyPrefix = prefix,
        MaxSessions = maxSessions,
    };
}

using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>MinReplicas on Redis Cluster is refused before anything is written (docs/storage/redis.md says why).</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterReplicationTests(RedisClusterFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = "rr" + Guid.NewGuid().ToString("N")[..12] + ":";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        redis.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await redis.DeleteKeysAsync(_prefix);

    [Fact]
    public async Task CreateSession_MinReplicasOnCluster_IsRefusedAndWritesNothing()
    {
        await using var replicated = Open(minReplicas: 1);
        await using var plain = Open(minReplicas: 0);

        var create = () => replicated.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);

        (await create.Should().ThrowAsync<NotSupportedException>()).WithMessage("*MinReplicas*cluster*Nothing was written*");
        (await plain.GetSessionAsync("s-1", Ct)).Should().BeNull();
    }

    [Fact]
    public async Task AddMessage_MinReplicasOnCluster_IsRefusedAndWritesNothing()
    {
        await using var replicated = Open(minReplicas: 1);
        await using var plain = Open(minReplicas: 0);
        await plain.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);

        var append = () => replicated.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "a", Content = "x" }, Ct);

        await append.Should().ThrowAsync<NotSupportedException>();
        (await plain.GetMessagesAsync("s-1", 50, Ct)).Should().BeEmpty();
    }

    private SessionPersistence Open(int minReplicas) => SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Redis,
        ConnectionString = redis.ConnectionString,
        RedisKeyPrefix = _prefix,
        MinReplicas = minReplicas,
    });
}

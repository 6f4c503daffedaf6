namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The test classes that share the primary-with-replica deployment (started once per run; they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class RedisReplicatedGroup : ICollectionFixture<RedisReplicatedFixture>
{
    public const string Name = "Redis primary with replica";
}

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The test classes that share the 3-primary cluster (started once per run).</summary>
[CollectionDefinition(Name)]
public sealed class RedisClusterGroup : ICollectionFixture<RedisClusterFixture>
{
    public const string Name = "Redis cluster";
}

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The test classes that share the single-node server (started once per run).</summary>
[CollectionDefinition(Name)]
public sealed class RedisSingleNodeGroup : ICollectionFixture<RedisSingleNodeFixture>
{
    public const string Name = "Redis single node";
}

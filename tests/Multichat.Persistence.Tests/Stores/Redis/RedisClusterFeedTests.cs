namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The feed hints and read-cursor key on the 3-primary cluster: sharded <c>SPUBLISH</c>.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterFeedTests(RedisClusterFixture cluster) : RedisFeedTestsBase(cluster, "spublish");

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The cross-process feed and read-state checks on the 3-primary cluster, where the hints go by sharded pub/sub.</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterFeedAcrossProcessesTests(RedisClusterFixture cluster) : RedisFeedAcrossProcessesTestsBase(cluster);

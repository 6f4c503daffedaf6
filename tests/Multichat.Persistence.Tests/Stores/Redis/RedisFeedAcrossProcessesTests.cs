namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The cross-process feed and read-state checks on one redis-server.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisFeedAcrossProcessesTests(RedisSingleNodeFixture redis) : RedisFeedAcrossProcessesTestsBase(redis);

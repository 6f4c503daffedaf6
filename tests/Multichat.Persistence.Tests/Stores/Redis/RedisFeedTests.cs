namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>The feed hints and read-cursor key on a single node: classic <c>PUBLISH</c>.</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisFeedTests(RedisSingleNodeFixture redis) : RedisFeedTestsBase(redis, "publish");

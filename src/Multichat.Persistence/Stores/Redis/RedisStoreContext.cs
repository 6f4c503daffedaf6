using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>What the parts of the Redis store share: the way to the server, the key layout, the session count and the clock.</summary>
internal sealed record RedisStoreContext(RedisScriptRunner Runner, RedisKeys Keys, RedisSessionLimit Limit, TimeProvider Clock, ILogger Logger);

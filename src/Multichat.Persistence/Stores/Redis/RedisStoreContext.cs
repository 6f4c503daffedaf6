using Microsoft.Extensions.Logging;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>What the parts of the Redis store share: the way to the server, the key layout, the session count, the clock
/// and the fault-injection tests' hook (null outside them; see <see cref="RedisFaultPoints"/>).</summary>
internal sealed record RedisStoreContext(RedisScriptRunner Runner, RedisKeys Keys, RedisSessionLimit Limit, TimeProvider Clock, ILogger Logger, FaultInjection? Faults = null);

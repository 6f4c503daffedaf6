using FluentAssertions;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The guarded replacement on a single redis-server: the check inside the commit script, before its first
/// write (skipped without a server locally, failed with CI=true).</summary>
[Collection(RedisSingleNodeGroup.Name)]
public sealed class RedisGuardedReplacementTests(RedisSingleNodeFixture redis) : GuardedReplacementTests
{
    private string Prefix => StorageKey + ":";

    public override ValueTask InitializeAsync()
    {
        redis.Require();
        return base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = redis.ConnectionString;
        options.RedisKeyPrefix = Prefix;
    }

    protected override async Task NothingStagedAsync() =>
        (await StagedKeysAsync(redis, Prefix)).Should().BeEmpty("a replacement that did not commit removes its staged keys");

    /// <summary>The staged keys of replacements (<c>:rq:</c>, <c>:ri:</c>) under <paramref name="prefix"/>, on every primary.</summary>
    internal static async Task<List<string>> StagedKeysAsync(RedisFixture redis, string prefix)
    {
        var staged = new List<string>();
        foreach (var server in redis.Admin.GetServers().Where(s => !s.IsReplica && s.IsConnected))
        {
            await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
            {
                var text = (string)key!;
                if (text.Contains(":rq:", StringComparison.Ordinal) || text.Contains(":ri:", StringComparison.Ordinal))
                {
                    staged.Add(text);
                }
            }
        }

        return staged;
    }

    protected override async ValueTask DeleteStorageAsync() => await redis.DeleteKeysAsync(Prefix);
}

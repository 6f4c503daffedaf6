using FluentAssertions;
using Multichat.Persistence.Tests.Stores.Redis;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The guarded replacement on a 3-primary Redis Cluster: the same check in the commit script, which a guarded
/// replacement runs without a create lease (it never adds a session).</summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterGuardedReplacementTests(RedisClusterFixture cluster) : GuardedReplacementTests
{
    private string Prefix => StorageKey + ":";

    public override ValueTask InitializeAsync()
    {
        cluster.Require();
        return base.InitializeAsync();
    }

    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Redis;
        options.ConnectionString = cluster.ConnectionString;
        options.RedisKeyPrefix = Prefix;
    }

    protected override async Task NothingStagedAsync() =>
        (await RedisGuardedReplacementTests.StagedKeysAsync(cluster, Prefix)).Should().BeEmpty("a replacement that did not commit removes its staged keys");

    protected override async ValueTask DeleteStorageAsync() => await cluster.DeleteKeysAsync(Prefix);
}

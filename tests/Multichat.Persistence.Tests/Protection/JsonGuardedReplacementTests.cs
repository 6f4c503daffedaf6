using FluentAssertions;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The guarded replacement on the Json store: the check under the session's lock, before the commit point.</summary>
public sealed class JsonGuardedReplacementTests : GuardedReplacementTests
{
    private string Root => JsonStoreConformanceTests.Root(StorageKey);

    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Json;
        options.StoragePath = Root;
    }

    protected override Task NothingStagedAsync()
    {
        Directory.EnumerateFiles(Root, "*.restore", SearchOption.AllDirectories).Should().BeEmpty("a replacement that did not commit deletes what it staged");
        return Task.CompletedTask;
    }

    protected override ValueTask DeleteStorageAsync()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>Re-encryption on the Json store; each instance opens the test's folder as another process would.</summary>
public sealed class JsonReencryptionTests : ReencryptionTests
{
    protected override void ConfigureStorage(SessionPersistenceOptions options)
    {
        options.StorageType = StorageType.Json;
        options.StoragePath = JsonStoreConformanceTests.Root(StorageKey);
    }

    protected override ValueTask DeleteStorageAsync()
    {
        var root = JsonStoreConformanceTests.Root(StorageKey);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

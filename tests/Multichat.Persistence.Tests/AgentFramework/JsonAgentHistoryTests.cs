using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>The adapter over the Json store (real files in a temp folder).</summary>
public class JsonAgentHistoryTests : AgentHistoryTests
{
    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey)
    {
        options.StorageType = StorageType.Json;
        options.StoragePath = JsonStoreConformanceTests.Root(storageKey);
    }

    protected override ValueTask DeleteStorageAsync(string storageKey)
    {
        var root = JsonStoreConformanceTests.Root(storageKey);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

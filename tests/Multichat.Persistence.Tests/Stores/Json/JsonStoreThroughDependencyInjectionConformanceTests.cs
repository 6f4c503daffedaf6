using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>The conformance suite against the Json store, every instance resolved from <c>AddSessionPersistence</c>.</summary>
public sealed class JsonStoreThroughDependencyInjectionConformanceTests : SessionStoreConformanceTests
{
    protected override bool OpenThroughDependencyInjection => true;

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

using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// The conformance suite against the Json store. Every instance of a test opens the same folder, and instances share
/// nothing in memory, so the second-instance tests go through the same files and locks another process would.
/// </summary>
public class JsonStoreConformanceTests : SessionStoreConformanceTests
{
    internal static string Root(string storageKey) => Path.Combine(Path.GetTempPath(), "multichat-json-tests", storageKey);

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey)
    {
        options.StorageType = StorageType.Json;
        options.StoragePath = Root(storageKey);
    }

    protected override ValueTask DeleteStorageAsync(string storageKey)
    {
        var root = Root(storageKey);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

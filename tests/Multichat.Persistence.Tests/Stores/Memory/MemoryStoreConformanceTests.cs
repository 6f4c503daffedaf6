using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Memory;

/// <summary>The conformance suite against the in-process store.</summary>
public class MemoryStoreConformanceTests : SessionStoreConformanceTests
{
    // Each Memory instance is its own world, so the second-instance tests skip; every other guarantee applies.
    protected override bool SharesStorageAcrossInstances => false;

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey) =>
        options.StorageType = StorageType.Memory;
}

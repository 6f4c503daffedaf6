using Multichat.Persistence.Tests.Conformance;

namespace Multichat.Persistence.Tests.Stores.Memory;

/// <summary>The conformance suite against the in-process store, every instance resolved from <c>AddSessionPersistence</c>.</summary>
public sealed class MemoryStoreThroughDependencyInjectionConformanceTests : SessionStoreConformanceTests
{
    protected override bool SharesStorageAcrossInstances => false;

    protected override bool OpenThroughDependencyInjection => true;

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey) =>
        options.StorageType = StorageType.Memory;
}

namespace Multichat.Persistence.Tests.Stores.Memory;

/// <summary>The conformance suite against the in-process store, every instance resolved from <c>AddSessionPersistence</c>.</summary>
public sealed class MemoryStoreThroughDependencyInjectionConformanceTests : MemoryStoreConformanceTests
{
    protected override bool OpenThroughDependencyInjection => true;
}

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>The conformance suite against the Json store, every instance resolved from <c>AddSessionPersistence</c>.</summary>
public sealed class JsonStoreThroughDependencyInjectionConformanceTests : JsonStoreConformanceTests
{
    protected override bool OpenThroughDependencyInjection => true;
}

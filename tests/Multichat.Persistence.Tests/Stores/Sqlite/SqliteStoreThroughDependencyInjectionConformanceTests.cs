namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>The conformance suite against the Sqlite store, every instance resolved from <c>AddSessionPersistence</c>.</summary>
public sealed class SqliteStoreThroughDependencyInjectionConformanceTests : SqliteStoreConformanceTests
{
    protected override bool OpenThroughDependencyInjection => true;
}

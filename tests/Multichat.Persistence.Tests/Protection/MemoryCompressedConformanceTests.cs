using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Memory;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against the Memory store with compression on (and encryption off).</summary>
public sealed class MemoryCompressedConformanceTests : MemoryStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Compress(options);
}

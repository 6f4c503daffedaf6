using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Memory;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against the Memory store with encryption on.</summary>
public sealed class MemoryEncryptedConformanceTests : MemoryStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Encrypt(options);
}

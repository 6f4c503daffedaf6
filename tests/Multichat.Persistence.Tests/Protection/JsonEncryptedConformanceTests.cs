using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against the Json store with encryption on.</summary>
public sealed class JsonEncryptedConformanceTests : JsonStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Encrypt(options);
}

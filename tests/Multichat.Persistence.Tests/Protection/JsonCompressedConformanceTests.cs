using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>The whole conformance suite against the Json store with compression on (and encryption off).</summary>
public sealed class JsonCompressedConformanceTests : JsonStoreConformanceTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Compress(options);
}

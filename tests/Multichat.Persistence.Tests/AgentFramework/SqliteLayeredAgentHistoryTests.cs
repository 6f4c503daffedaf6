using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>The adapter over Sqlite with every optional layer on (encryption, compression, read cache): the stored
/// JSON goes through each and still comes back byte for byte.</summary>
public class SqliteLayeredAgentHistoryTests : SqliteAgentHistoryTests
{
    protected override void ConfigureLayers(SessionPersistenceOptions options)
    {
        ProtectionSettings.Encrypt(options);
        ProtectionSettings.Compress(options);
        CacheSettings.Cache(options);
    }
}

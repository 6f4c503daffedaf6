namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>The adapter over the Memory store: everything but surviving a restart.</summary>
public class MemoryAgentHistoryTests : AgentHistoryTests
{
    protected override bool SurvivesReopen => false;

    protected override void ConfigureStorage(SessionPersistenceOptions options, string storageKey) => options.StorageType = StorageType.Memory;
}

namespace Multichat.Persistence.Tests.Protection;

/// <summary>Re-encryption on the Memory store: every instance of a test is a facade over one store.</summary>
public sealed class MemoryReencryptionTests : ReencryptionTests
{
    private readonly MemoryStorage _storage = new();

    protected override void ConfigureStorage(SessionPersistenceOptions options) => options.StorageType = StorageType.Memory;

    protected override SessionPersistence Open(Action<SessionPersistenceOptions> layers) => Track(_storage.Over(Clock, layers));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _storage.DisposeAsync();
    }
}

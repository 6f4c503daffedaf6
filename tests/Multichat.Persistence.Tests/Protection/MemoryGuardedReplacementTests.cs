namespace Multichat.Persistence.Tests.Protection;

/// <summary>The guarded replacement on the Memory store: the check and the swap under the session's gate.</summary>
public sealed class MemoryGuardedReplacementTests : GuardedReplacementTests
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

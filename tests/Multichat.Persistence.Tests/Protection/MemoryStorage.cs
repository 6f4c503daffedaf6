namespace Multichat.Persistence.Tests.Protection;

/// <summary>One Memory store that a test's instances share, as other stores share their files or server.</summary>
internal sealed class MemoryStorage : IAsyncDisposable
{
    private readonly SessionPersistence _store = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });

    /// <summary>A facade with its own layers over the one store.</summary>
    public SessionPersistence Over(TimeProvider clock, Action<SessionPersistenceOptions> layers)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory, TimeProvider = clock };
        layers(options);
        return new SessionPersistence(_store.Store, options, ownsStore: false);
    }

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}

namespace Multichat.Persistence.Tests.Caching;

/// <summary>The cache coherence test on the Json store, the reader in another process.</summary>
public sealed class JsonCacheCoherenceTests : CacheCoherenceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "multichat-cache-coherence", Guid.NewGuid().ToString("N")[..8]);

    protected override SessionPersistenceOptions WriterOptions() => new() { StorageType = StorageType.Json, StoragePath = _root };

    protected override async Task<ICoherenceReader> StartReaderAsync(string sessionId) =>
        await WorkerCoherenceReader.StartAsync("Json", _root, sessionId);

    public override ValueTask DisposeAsync()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return base.DisposeAsync();
    }
}

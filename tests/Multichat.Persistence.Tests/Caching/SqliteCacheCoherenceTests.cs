namespace Multichat.Persistence.Tests.Caching;

/// <summary>The cache coherence test on the Sqlite store, the reader in another process.</summary>
public sealed class SqliteCacheCoherenceTests : CacheCoherenceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "multichat-cache-coherence", Guid.NewGuid().ToString("N")[..8]);

    protected override SessionPersistenceOptions WriterOptions() => new() { StorageType = StorageType.Sqlite, StoragePath = _root };

    protected override async Task<ICoherenceReader> StartReaderAsync(string sessionId) =>
        await WorkerCoherenceReader.StartAsync("Sqlite", _root, sessionId);

    public override ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return base.DisposeAsync();
    }
}

using System.Text;
using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>With encryption on, the raw bytes a store leaves behind (every Json file; the SQLite database with its WAL
/// and shm) hold no plain text of a marker written as content, title, session and message metadata value.</summary>
public sealed class AtRestScanTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "multichat-scan-tests", Guid.NewGuid().ToString("N")[..12]);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(StorageType.Json)]
    [InlineData(StorageType.Sqlite)]
    public async Task RawFiles_HoldNoPlainTextOfTheMarker(StorageType storageType)
    {
        var options = new SessionPersistenceOptions { StorageType = storageType, StoragePath = _root };
        ProtectionSettings.Encrypt(options);
        await using (var store = SessionPersistence.Create(options))
        {
            await EncryptionTests.WriteMarkedSessionAsync(store);

            // While open, so the SQLite WAL still holds the writes.
            ScanFiles().Should().BeEmpty();
        }

        ScanFiles().Should().BeEmpty();
    }

    [Theory]
    [InlineData(StorageType.Json)]
    [InlineData(StorageType.Sqlite)]
    public async Task RawFiles_WithoutEncryption_DoHoldTheMarker(StorageType storageType)
    {
        // The scan's own check: it finds the marker where it is stored plain.
        await using var store = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = storageType, StoragePath = _root });
        await EncryptionTests.WriteMarkedSessionAsync(store);

        ScanFiles().Should().NotBeEmpty();
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>The files under the root whose bytes contain the marker (UTF-8 or UTF-16).</summary>
    private List<string> ScanFiles()
    {
        var utf8 = Encoding.UTF8.GetBytes(EncryptionTests.MarkerText);
        var utf16 = Encoding.Unicode.GetBytes(EncryptionTests.MarkerText);
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            catch (IOException) when (Path.GetFileName(file) is ".lock" or ".want")
            {
                // Held under an OS lock by the open store; lock files are empty by design.
                continue;
            }

            if (bytes.AsSpan().IndexOf(utf8) >= 0 || bytes.AsSpan().IndexOf(utf16) >= 0)
            {
                found.Add(file);
            }
        }

        return found;
    }
}

using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Backup;

/// <summary>
/// Reads and writes the portable <c>.mcbak</c> archive: gzip'd JSON Lines, a header, then each session followed
/// by its messages. Streamed both ways, so memory does not grow with the store.
/// </summary>
internal static class BackupArchive
{
    public static async Task WriteAsync(
        Stream destination, string sourceStore, DateTimeOffset createdAt, IAsyncEnumerable<PortableItem> items, CancellationToken cancellationToken)
    {
        var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true);
        await using (gzip.ConfigureAwait(false))
        {
            await WriteLineAsync(gzip, new ArchiveLine
            {
                Header = new ArchiveHeader
                {
                    Format = ArchiveHeader.FormatName,
                    Version = ArchiveHeader.CurrentVersion,
                    CreatedAt = createdAt,
                    SourceStore = sourceStore,
                },
            }, cancellationToken).ConfigureAwait(false);

            await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await WriteLineAsync(gzip, new ArchiveLine { Session = item.Session, Message = item.Message }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public static async IAsyncEnumerable<PortableItem> ReadAsync(Stream source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var lineNumber = 0;
        var sawHeader = false;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            ArchiveLine? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(line, PersistenceJsonContext.Default.ArchiveLine);
            }
            catch (JsonException ex)
            {
                throw new StoreCorruptedException($"Backup archive line {lineNumber} is not valid: {ex.Message}", ex);
            }

            if (!sawHeader)
            {
                if (parsed?.Header is not { Format: ArchiveHeader.FormatName } header)
                {
                    throw new StoreCorruptedException("This is not a Multichat.Persistence backup archive: its first line is not a multichat-backup header.");
                }

                if (header.Version > ArchiveHeader.CurrentVersion)
                {
                    throw new StoreCorruptedException(
                        $"The backup archive has format version {header.Version}; this library reads up to {ArchiveHeader.CurrentVersion}. Upgrade Multichat.Persistence to restore it.");
                }

                sawHeader = true;
                continue;
            }

            if (parsed?.Session is { } session)
            {
                yield return PortableItem.ForSession(session);
            }
            else if (parsed?.Message is { } message)
            {
                yield return PortableItem.ForMessage(message);
            }
            else
            {
                throw new StoreCorruptedException($"Backup archive line {lineNumber} holds neither a session nor a message.");
            }
        }

        if (!sawHeader)
        {
            throw new StoreCorruptedException("The backup archive is empty.");
        }
    }

    private static async Task WriteLineAsync(Stream stream, ArchiveLine line, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(line, PersistenceJsonContext.Default.ArchiveLine);
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        stream.WriteByte((byte)'\n');
    }
}

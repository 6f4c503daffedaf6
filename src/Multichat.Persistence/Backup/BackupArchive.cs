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

            long sessions = 0, messages = 0;
            await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                sessions += item.Session is null ? 0 : 1;
                messages += item.Message is null ? 0 : 1;
                await WriteLineAsync(gzip, new ArchiveLine { Session = item.Session, Message = item.Message }, cancellationToken).ConfigureAwait(false);
            }

            await WriteLineAsync(gzip, new ArchiveLine { End = new ArchiveTrailer { Sessions = sessions, Messages = messages } }, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    public static async IAsyncEnumerable<PortableItem> ReadAsync(Stream source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var lineNumber = 0;
        var sawHeader = false;
        ArchiveTrailer? trailer = null;
        long sessions = 0, messages = 0;
        while (await ReadLineAsync(reader, lineNumber + 1, cancellationToken).ConfigureAwait(false) is { } line)
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

            if (trailer is not null)
            {
                throw new StoreCorruptedException($"Backup archive line {lineNumber} follows the archive's last line; the file was altered.");
            }

            if (parsed?.Session is { } session)
            {
                sessions++;
                yield return PortableItem.ForSession(session);
            }
            else if (parsed?.Message is { } message)
            {
                messages++;
                yield return PortableItem.ForMessage(message);
            }
            else if (parsed?.End is { } end)
            {
                if (end.Sessions != sessions || end.Messages != messages)
                {
                    throw new StoreCorruptedException(
                        $"The backup archive names {end.Sessions} sessions and {end.Messages} messages but holds {sessions} and {messages}; it was altered.");
                }

                trailer = end;
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

        if (trailer is null)
        {
            throw new StoreCorruptedException(
                $"The backup archive ends after line {lineNumber} without its closing line: it was cut short. What came before it was restored; restore a complete archive.");
        }
    }

    private static async Task<string?> ReadLineAsync(StreamReader reader, int lineNumber, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new StoreCorruptedException(
                $"The backup archive cannot be decompressed at line {lineNumber}: it is not a gzip'd .mcbak file, or it is damaged.", ex);
        }
    }

    private static async Task WriteLineAsync(Stream stream, ArchiveLine line, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(line, PersistenceJsonContext.Default.ArchiveLine);
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        stream.WriteByte((byte)'\n');
    }
}

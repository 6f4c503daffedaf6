using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Backup;

/// <summary>
/// Reads and writes the portable <c>.mcbak</c> archive: gzip'd JSON Lines, a header, then each session followed
/// by its messages, then a trailer with the counts and a SHA-256 of everything before it. Streamed both ways, so
/// memory does not grow with the store.
/// </summary>
internal static class BackupArchive
{
    public static async Task WriteAsync(
        Stream destination,
        string sourceStore,
        DateTimeOffset createdAt,
        IAsyncEnumerable<PortableItem> items,
        TransferCounter? counter,
        CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true);
        await using (gzip.ConfigureAwait(false))
        {
            await WriteLineAsync(gzip, hash, new ArchiveLine
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
                await WriteLineAsync(gzip, hash, new ArchiveLine
                {
                    Session = item.Session,
                    ReadCursors = item.ReadCursors is { } cursors ? new Dictionary<string, long>(cursors, StringComparer.Ordinal) : null,
                    Message = item.Message,
                }, cancellationToken).ConfigureAwait(false);
                counter?.Item(item, destination);
            }

            await WriteLineAsync(
                gzip,
                hash: null,
                new ArchiveLine { End = new ArchiveTrailer { Sessions = sessions, Messages = messages, Sha256 = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant() } },
                cancellationToken).ConfigureAwait(false);
        }

        counter?.Finish(destination);
    }

    /// <summary>
    /// Reads an archive, checking as it goes that it is one (header, version), that every line parses, that each
    /// message follows its session in ascending sequence, and at the end that the counts and checksum agree and nothing
    /// was cut off. A caller that must not act on a damaged archive reads it to the end once before acting
    /// (<see cref="SafeRestore"/>). <paramref name="header"/> receives the header once read.
    /// </summary>
    public static async IAsyncEnumerable<PortableItem> ReadAsync(
        Stream source, Action<ArchiveHeader>? header, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false));
        var lineNumber = 0;
        ArchiveHeader? head = null;
        ArchiveTrailer? trailer = null;
        long sessions = 0, messages = 0;
        string? currentSession = null;
        long lastSequence = 0;
        while (await ReadLineAsync(reader, lineNumber + 1, cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            ArchiveLine? parsed;
            try
            {
                parsed = line.Length == 0 ? null : JsonSerializer.Deserialize(line, PersistenceJsonContext.Default.ArchiveLine);
            }
            catch (JsonException ex)
            {
                throw new StoreCorruptedException($"Backup archive line {lineNumber} is not valid: {ex.Message}", ex);
            }

            if (head is null)
            {
                head = parsed?.Header is { Format: ArchiveHeader.FormatName } found
                    ? found
                    : throw new StoreCorruptedException("This is not a Multichat.Persistence backup archive: its first line is not a multichat-backup header.");
                if (head.Version > ArchiveHeader.CurrentVersion)
                {
                    throw new StoreCorruptedException(
                        $"The backup archive has format version {head.Version}; this library reads up to {ArchiveHeader.CurrentVersion}. Upgrade Multichat.Persistence to restore it.");
                }

                Hash(hash, line);
                header?.Invoke(head);
                continue;
            }

            if (trailer is not null)
            {
                throw new StoreCorruptedException($"Backup archive line {lineNumber} follows the archive's last line; the file was altered.");
            }

            if (parsed?.End is { } end)
            {
                trailer = end;
                Check(end, sessions, messages, head.Version >= 2 ? Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant() : null);
                continue;
            }

            Hash(hash, line);
            if (parsed?.Session is { } session)
            {
                sessions++;
                (currentSession, lastSequence) = (session.SessionId, 0);
                yield return PortableItem.ForSession(session) with { ReadCursors = parsed.ReadCursors };
            }
            else if (parsed?.Message is { } message)
            {
                if (!string.Equals(message.SessionId, currentSession, StringComparison.Ordinal) || message.Sequence <= lastSequence)
                {
                    throw new StoreCorruptedException(
                        $"Backup archive line {lineNumber}: message '{message.Id}' (session '{message.SessionId}', sequence {message.Sequence}) is out of place; each session's messages follow it in ascending sequence.");
                }

                messages++;
                lastSequence = message.Sequence;
                yield return PortableItem.ForMessage(message);
            }
            else
            {
                throw new StoreCorruptedException($"Backup archive line {lineNumber} holds neither a session nor a message.");
            }
        }

        if (head is null)
        {
            throw new StoreCorruptedException("The backup archive is empty.");
        }

        if (trailer is null)
        {
            throw new StoreCorruptedException(
                $"The backup archive ends after line {lineNumber} without its closing line: it was cut short. Restore a complete archive.");
        }
    }

    private static void Check(ArchiveTrailer end, long sessions, long messages, string? sha256)
    {
        if (end.Sessions != sessions || end.Messages != messages)
        {
            throw new StoreCorruptedException(
                $"The backup archive names {end.Sessions} sessions and {end.Messages} messages but holds {sessions} and {messages}; it was altered.");
        }

        if (sha256 is not null && !string.Equals(end.Sha256, sha256, StringComparison.Ordinal))
        {
            throw new StoreCorruptedException("The backup archive's content does not match its SHA-256; it was altered after it was written.");
        }
    }

    private static void Hash(IncrementalHash hash, string line)
    {
        hash.AppendData(Encoding.UTF8.GetBytes(line));
        hash.AppendData("\n"u8);
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

    private static async Task WriteLineAsync(Stream stream, IncrementalHash? hash, ArchiveLine line, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(line, PersistenceJsonContext.Default.ArchiveLine);
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        stream.WriteByte((byte)'\n');
        hash?.AppendData(bytes);
        hash?.AppendData("\n"u8);
    }
}

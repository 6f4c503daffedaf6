using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Damage to a <c>.mcbak</c> archive at three depths: its compressed bytes (gzip's own checks and the decoder), its
/// decompressed lines recompressed with the trailer left as it was (the JSON parser, the structure checks, and the
/// counts and SHA-256 that must then catch the change), and its lines with a trailer forged to match (counts and
/// checksum recomputed, sometimes as a version 1 archive without a checksum), which get past every integrity check and
/// reach the validation of the records and the restore itself.
/// </summary>
internal static class ArchiveMutations
{
    public enum Depth
    {
        Compressed,
        Lines,
        Forged,
    }

    public static string[] Decompress(byte[] archive)
    {
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, new UTF8Encoding(false));
        return reader.ReadToEnd().Split('\n')[..^1];
    }

    public static byte[] Compress(byte[] text)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(text);
        }

        return output.ToArray();
    }

    /// <summary>One damaged archive from <paramref name="archive"/> and its <paramref name="lines"/> (the trailer last).</summary>
    public static byte[] Mutate(byte[] archive, string[] lines, Random random, Depth depth, out string what)
    {
        switch (depth)
        {
            case Depth.Compressed:
                if (random.Next(6) == 0)
                {
                    // A second gzip member after the first: decompressed as one stream, so its lines follow the trailer.
                    var extra = Compress(Encoding.UTF8.GetBytes(lines[random.Next(lines.Length)] + "\n"));
                    what = "a gzip member with one more line appended";
                    return [.. archive, .. extra];
                }

                var bytes = ByteMutations.Mutate(archive, random, [], out what);
                what = "compressed: " + what;
                return bytes;
            case Depth.Lines:
                return Compress(MutateLines(lines, random, lines.Length, out what));
            default:
                // Everything but the trailer is damaged, then a trailer that fits what the reader will count and hash.
                var version1 = random.Next(4) == 0;
                var head = version1 ? [lines[0].Replace("\"version\":2", "\"version\":1", StringComparison.Ordinal), .. lines[1..]] : lines;
                var body = MutateLines(head, random, lines.Length - 1, out what);
                what += version1 ? ", as version 1" : "";
                return Compress([.. body, .. Encoding.UTF8.GetBytes(Trailer(body, version1) + "\n")]);
        }
    }

    /// <summary>The first <paramref name="count"/> lines, one of them (or the bytes of all) damaged, as UTF-8 that may be invalid.</summary>
    private static byte[] MutateLines(string[] lines, Random random, int count, out string what)
    {
        var text = string.Join('\n', lines.Take(count)) + "\n";
        if (random.Next(2) == 0)
        {
            // A value of one line's JSON: the parser accepts it, the checks behind it must not.
            var at = random.Next(count);
            var mutated = JsonValueMutations.Mutate(Encoding.UTF8.GetBytes(lines[at]), random, out var change);
            if (mutated is not null)
            {
                what = $"line {at}: {change}";
                var copy = lines.Take(count).ToArray();
                copy[at] = Encoding.UTF8.GetString(mutated);
                return Encoding.UTF8.GetBytes(string.Join('\n', copy) + "\n");
            }
        }

        var spliced = lines.Select(l => Encoding.UTF8.GetBytes(l + "\n")).ToList();
        var bytes = ByteMutations.Mutate(Encoding.UTF8.GetBytes(text), random, spliced, out what);
        what = "lines: " + what;
        return bytes;
    }

    /// <summary>
    /// The trailer the reader expects after <paramref name="body"/>: its counts and (version 2) SHA-256, over the lines as
    /// the reader sees them (invalid UTF-8 decoded as U+FFFD, lines ended by '\n', '\r' or both).
    /// </summary>
    private static string Trailer(byte[] body, bool version1)
    {
        long sessions = 0, messages = 0;
        var hashed = new StringBuilder();
        var lines = new List<string>();
        using (var reader = new StreamReader(new MemoryStream(body), new UTF8Encoding(false, throwOnInvalidBytes: false)))
        {
            while (reader.ReadLine() is { } read)
            {
                lines.Add(read);
            }
        }

        foreach (var line in lines)
        {
            ArchiveLine? parsed = null;
            try
            {
                parsed = line.Length == 0 ? null : JsonSerializer.Deserialize(line, PersistenceJsonContext.Default.ArchiveLine);
            }
            catch (JsonException)
            {
            }

            sessions += parsed?.Session is null ? 0 : 1;
            messages += parsed?.Session is null && parsed?.Message is not null ? 1 : 0;
        }

        // The reader hashes every line after the header as it decoded it, each with its '\n' (the header too: all but the trailer).
        foreach (var line in lines)
        {
            hashed.Append(line).Append('\n');
        }

        var sha256 = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hashed.ToString()))).ToLowerInvariant();
        var end = new ArchiveLine { End = new ArchiveTrailer { Sessions = sessions, Messages = messages, Sha256 = version1 ? null : sha256 } };
        return JsonSerializer.Serialize(end, PersistenceJsonContext.Default.ArchiveLine);
    }
}

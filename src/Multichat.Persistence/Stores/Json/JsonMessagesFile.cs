using Microsoft.Win32.SafeHandles;

namespace Multichat.Persistence.Stores.Json;

/// <summary>Reads the ends of a messages file: where its committed part ends, its last and its first message.</summary>
internal static class JsonMessagesFile
{
    /// <summary>
    /// Finds the end of the committed part of [<paramref name="floor"/>, <paramref name="length"/>): an unfinished last
    /// line, and the lines of a batch whose last line is missing, are not committed. Also returns the last message's
    /// sequence and append time (0 and null when no valid line lies in the range).
    /// </summary>
    public static JsonTail FindTail(SafeFileHandle file, long floor, long length)
    {
        var end = LastLineEnd(file, floor, length);
        long? committedEnd = null;
        long lastSequence = 0;
        DateTimeOffset? lastAt = null;
        JsonLineScanner.Backward(file, floor, end, (line, offset) =>
        {
            var lineEnd = offset + line.Length + 1;
            if (!JsonMessageLine.TryReadHeader(line, out var sequence, out _, out var at, out var more))
            {
                // A damaged line that ends in '\n' was written whole and damaged later: it stays, and is skipped.
                committedEnd ??= lineEnd;
                return true;
            }

            if (more && committedEnd is null)
            {
                return true; // part of a batch cut short by a crash
            }

            committedEnd ??= lineEnd;
            lastSequence = sequence;
            lastAt = at;
            return false;
        });
        return new JsonTail(committedEnd ?? floor, lastSequence, lastAt);
    }

    /// <summary>The sequence of the first valid line at or after <paramref name="start"/>, or 0.</summary>
    public static long FirstSequence(SafeFileHandle file, long start, long end)
    {
        long first = 0;
        JsonLineScanner.Forward(file, start, end, (line, offset) =>
        {
            if (JsonMessageLine.TryReadHeader(line, out var sequence, out _, out _, out _))
            {
                first = sequence;
                return false;
            }

            return true;
        }, 4096);
        return first;
    }

    private static long LastLineEnd(SafeFileHandle file, long floor, long length)
    {
        Span<byte> block = stackalloc byte[4096];
        var position = length;
        while (position > floor)
        {
            var start = Math.Max(floor, position - block.Length);
            var chunk = block[..(int)(position - start)];
            var read = RandomAccess.Read(file, chunk, start);
            var newline = chunk[..read].LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                return start + newline + 1;
            }

            position = start;
        }

        return floor;
    }
}

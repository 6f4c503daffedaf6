using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// Walks the lines of a messages file forward or backward, block by block, so a page never reads more than it needs
/// and memory stays bounded by the longest line, not the file.
/// </summary>
internal static class JsonLineScanner
{
    /// <summary>Receives a line (without its '\n') and its offset; returns false to stop.</summary>
    public delegate bool LineVisitor(ReadOnlySpan<byte> line, long offset);

    private const int BlockSize = 16 * 1024;

    /// <summary>
    /// Visits the '\n'-terminated lines in [<paramref name="start"/>, <paramref name="end"/>) in order.
    /// Returns the offset just after the last complete line visited (or where the visitor stopped).
    /// </summary>
    public static long Forward(SafeFileHandle file, long start, long end, LineVisitor visit, int blockSize = BlockSize)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(blockSize);
        try
        {
            var windowStart = start;
            var windowLength = 0;
            var position = start;
            while (position < end)
            {
                var inWindow = (int)(position - windowStart);
                var newline = inWindow < windowLength ? buffer.AsSpan(inWindow, windowLength - inWindow).IndexOf((byte)'\n') : -1;
                if (newline < 0)
                {
                    var windowEnd = windowStart + windowLength;
                    if (windowEnd >= end)
                    {
                        return position; // an unfinished line at the end
                    }

                    // Slide the window to start at the current line, growing it when one line is longer than the buffer.
                    var keep = (int)(windowEnd - position);
                    if (keep * 2 > buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(inWindow, keep).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    else
                    {
                        buffer.AsSpan(inWindow, keep).CopyTo(buffer);
                    }

                    windowStart = position;
                    var want = (int)Math.Min(buffer.Length - keep, end - windowEnd);
                    var read = RandomAccess.Read(file, buffer.AsSpan(keep, want), windowEnd);
                    windowLength = keep + read;
                    if (read == 0)
                    {
                        return position;
                    }

                    continue;
                }

                var line = buffer.AsSpan(inWindow, newline);
                if (!visit(line, position))
                {
                    return position;
                }

                position += newline + 1;
            }

            return position;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Visits the lines of [<paramref name="start"/>, <paramref name="end"/>) from the last to the first; <paramref name="end"/>
    /// must be just after a '\n'. Returns the offset of the last line visited (where the walk stopped).
    /// </summary>
    public static long Backward(SafeFileHandle file, long start, long end, LineVisitor visit, int blockSize = BlockSize)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(blockSize);
        try
        {
            // The window holds [windowStart, end) of the file; lineEnd is just after the '\n' of the next line to visit.
            var windowStart = end;
            var lineEnd = end;
            while (lineEnd > start)
            {
                var searchEnd = (int)(lineEnd - 1 - windowStart); // the '\n' of this line is at lineEnd - 1
                var previous = searchEnd > 0 ? buffer.AsSpan(0, searchEnd).LastIndexOf((byte)'\n') : -1;
                if (previous < 0 && windowStart > start)
                {
                    // Reload a bigger window ending at lineEnd, so this whole line fits.
                    var size = Math.Max(blockSize, (int)Math.Min(int.MaxValue / 2, 2 * (lineEnd - windowStart)));
                    if (size > buffer.Length)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(size);
                    }

                    windowStart = Math.Max(start, lineEnd - buffer.Length);
                    ReadExactly(file, buffer.AsSpan(0, (int)(lineEnd - windowStart)), windowStart);
                    continue;
                }

                var lineStart = previous < 0 ? windowStart : windowStart + previous + 1;
                var line = buffer.AsSpan((int)(lineStart - windowStart), (int)(lineEnd - 1 - lineStart));
                if (!visit(line, lineStart))
                {
                    return lineStart;
                }

                lineEnd = lineStart;
            }

            return lineEnd;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ReadExactly(SafeFileHandle file, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(file, destination, offset);
            if (read == 0)
            {
                throw new StoreCorruptedException("A session's messages file ended early while it was read; it was changed outside the store.");
            }

            destination = destination[read..];
            offset += read;
        }
    }
}

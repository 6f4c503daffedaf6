using Microsoft.Win32.SafeHandles;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// Finds where a sequence starts in a messages file by searching over byte offsets (sequences ascend through the file),
/// so neither readers nor writers keep anything per message to seek with: each step reads a small block inside the range,
/// skips to the next line start and reads that line's sequence; a short forward scan finishes. Given the file's first
/// and last sequences it interpolates (lines are of similar length), so two or three reads usually do; every third step
/// halves the range instead, so lines of very uneven length cost at most about twice a binary search (~15 reads of a few
/// KiB for a million messages), from the page cache when the file was read recently.
/// </summary>
internal static class JsonSequenceSearch
{
    // Below this many bytes the forward scan reads the rest in one or two blocks: cheaper than more steps.
    private const int ScanBelow = 16 * 1024;
    private const int ProbeBlock = 4096;

    /// <summary>
    /// The offset of the first line in [0, <paramref name="length"/>) whose sequence is at least <paramref name="sequence"/>,
    /// or <paramref name="length"/> when none is. Damaged lines are stepped over (they may land on either side).
    /// <paramref name="firstSequence"/> and <paramref name="lastSequence"/>, the file's first and last, enable
    /// interpolation (0 when unknown).
    /// </summary>
    public static long OffsetOfFirstAtLeast(SafeFileHandle file, long length, long sequence, long firstSequence = 0, long lastSequence = 0)
    {
        // Invariant: valid lines before lo have smaller sequences, valid lines from hi on have sequences at least the
        // target; lo and hi are line starts (or the end). loSequence and hiSequence estimate the sequences there.
        long lo = 0, hi = length;
        long loSequence = firstSequence, hiSequence = lastSequence + 1;
        var interpolate = firstSequence > 0 && lastSequence >= firstSequence;
        var movedLo = false;
        var halve = false;
        for (var step = 1; hi - lo > ScanBelow; step++)
        {
            long middle;
            halve |= !interpolate || step % 3 == 0 || hiSequence <= loSequence;
            if (halve)
            {
                middle = lo + ((hi - lo) / 2);
            }
            else
            {
                // Aim a little to the side not bracketed yet: the first step lands just below the target line, the next
                // just above it, and the range left is small enough for the final scan.
                var estimate = lo + (long)((double)(sequence - loSequence) / (hiSequence - loSequence) * (hi - lo));
                middle = Math.Clamp(estimate + (movedLo ? ScanBelow / 4 : -ScanBelow / 4), lo + 1, hi - 1);
            }

            var probe = Probe(file, middle, hi);
            if (probe.LineStart < 0)
            {
                if (halve)
                {
                    break; // one long line spans the middle: the scan from lo reads it once
                }

                halve = true; // aimed into the last line of the range: halve it instead
                continue;
            }

            halve = false;
            if (probe.Sequence == 0)
            {
                hi = probe.LineStart; // only damaged lines from there to hi
            }
            else if (probe.Sequence < sequence)
            {
                (lo, loSequence, movedLo) = (probe.NextLine, probe.Sequence + 1, true);
            }
            else
            {
                (hi, hiSequence, movedLo) = (probe.Offset, probe.Sequence, false);
            }
        }

        var found = hi;
        JsonLineScanner.Forward(file, lo, hi, (line, offset) =>
        {
            if (JsonMessageLine.TryReadHeader(line, out var s, out _, out _, out _) && s >= sequence)
            {
                found = offset;
                return false;
            }

            return true;
        }, ScanBelow * 2);
        return found;
    }

    /// <summary>The first line starting in [<paramref name="middle"/>, <paramref name="hi"/>) and the first valid line from there.</summary>
    private static (long LineStart, long Offset, long NextLine, long Sequence) Probe(SafeFileHandle file, long middle, long hi)
    {
        long lineStart = -1, offset = -1, next = -1, found = 0;
        var first = true;

        // Scanning from the byte before the middle: the first "line" visited is the tail of the line the middle falls in
        // (empty when the middle starts a line), so the next one is the first line starting at or after the middle.
        JsonLineScanner.Forward(file, middle - 1, hi, (line, at) =>
        {
            if (first)
            {
                first = false;
                return true;
            }

            if (lineStart < 0)
            {
                lineStart = at;
            }

            if (!JsonMessageLine.TryReadHeader(line, out var s, out _, out _, out _))
            {
                return true;
            }

            (offset, next, found) = (at, at + line.Length + 1, s);
            return false;
        }, ProbeBlock);
        return (lineStart, offset, next, found);
    }
}

using System.Globalization;
using System.Text;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Byte-level damage to a text file of lines (JSON Lines, or a JSON document): bit flips, byte inserts and deletes,
/// truncation, splices of valid lines, huge numbers, deep nesting, invalid UTF-8, NULs, duplicated, swapped and
/// deleted lines, zeroed regions, garbage at the end, CR before LF. One mutation per call; positions lean towards
/// line starts and JSON punctuation, where a change alters structure rather than text.
/// </summary>
internal static class ByteMutations
{
    public static readonly string[] Kinds =
    [
        "flip", "flip-byte", "insert", "delete", "truncate", "splice", "huge-number", "deep-nesting", "invalid-utf8", "nul",
        "duplicate-line", "swap-lines", "delete-line", "zero", "garbage-tail", "crlf",
    ];

    /// <summary>Numbers no counter should hold, as JSON text.</summary>
    public static readonly string[] HugeNumbers =
    [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "99999999999999999999999999999999", "9007199254740992", "9007199254740993", "2147483648", "4294967296", "1e308",
        "1e309", "-1e308", "1.5", "0.0000001", "-0", "-1", "0", "1E3", "00", "0x10", "Infinity", "NaN",
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xFE], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xBF], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        [0xC3], [0xEF, 0xBB, 0xBF],
    ];

    /// <summary>Applies one mutation; <paramref name="what"/> says which, where and with what.</summary>
    /// <param name="input">The file's bytes (not changed).</param>
    /// <param name="random">The iteration's source of choices.</param>
    /// <param name="spliceLines">Valid lines (with their '\n') to splice in; may be empty.</param>
    /// <param name="what">A short description for the failure message.</param>
    public static byte[] Mutate(byte[] input, Random random, IReadOnlyList<byte[]> spliceLines, out string what)
    {
        var kind = Kinds[random.Next(Kinds.Length)];
        var bytes = new List<byte>(input);
        var lines = LineSpans(input);
        var at = bytes.Count == 0 ? 0 : Position(input, lines, random);
        switch (kind)
        {
            case "flip" when bytes.Count > 0:
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                what = Invariant($"flip bit {bit} of byte {at} ({Show(input[at])} -> {Show(bytes[at])})");
                break;
            case "flip-byte" when bytes.Count > 0:
                bytes[at] ^= (byte)random.Next(1, 256);
                what = Invariant($"xor byte {at} ({Show(input[at])} -> {Show(bytes[at])})");
                break;
            case "insert":
                var inserted = new byte[random.Next(1, 9)];
                random.NextBytes(inserted);
                bytes.InsertRange(at, inserted);
                what = Invariant($"insert {Convert.ToHexString(inserted)} at {at}");
                break;
            case "delete" when bytes.Count > 0:
                var count = Math.Min(random.Next(1, 9), bytes.Count - at);
                bytes.RemoveRange(at, count);
                what = Invariant($"delete {count} bytes at {at}");
                break;
            case "truncate":
                var length = random.Next(bytes.Count + 1);
                bytes.RemoveRange(length, bytes.Count - length);
                what = Invariant($"truncate to {length} of {input.Length} bytes");
                break;
            case "splice" when spliceLines.Count > 0:
                var line = spliceLines[random.Next(spliceLines.Count)];
                var boundary = Boundary(lines, random, input.Length);
                bytes.InsertRange(boundary, line);
                what = Invariant($"splice a valid line of {line.Length} bytes in at {boundary}");
                break;
            case "huge-number":
                var digits = DigitRuns(input);
                var number = HugeNumbers[random.Next(HugeNumbers.Length)];
                if (digits.Count == 0)
                {
                    bytes.InsertRange(at, Encoding.ASCII.GetBytes(number));
                    what = Invariant($"insert {number} at {at}");
                    break;
                }

                var (start, run) = digits[random.Next(digits.Count)];
                bytes.RemoveRange(start, run);
                bytes.InsertRange(start, Encoding.ASCII.GetBytes(number));
                what = Invariant($"replace the number at {start} ({Encoding.ASCII.GetString(input, start, run)}) with {number}");
                break;
            case "deep-nesting":
                var depth = random.Next(4) switch { 0 => 63, 1 => 65, 2 => 1_000, _ => 100_000 };
                var open = random.Next(2) == 0 ? "[" : "{\"a\":";
                var nesting = new StringBuilder(string.Concat(Enumerable.Repeat(open, depth)));
                if (random.Next(2) == 0)
                {
                    nesting.Append('1').Append(open == "[" ? ']' : '}', depth);
                }

                bytes.InsertRange(at, Encoding.ASCII.GetBytes(nesting.ToString()));
                what = Invariant($"insert {depth} levels of '{open}' at {at}");
                break;
            case "invalid-utf8":
                var sequence = InvalidUtf8[random.Next(InvalidUtf8.Length)];
                if (random.Next(2) == 0 && at + sequence.Length <= bytes.Count)
                {
                    for (var i = 0; i < sequence.Length; i++)
                    {
                        bytes[at + i] = sequence[i];
                    }

                    what = Invariant($"overwrite {Convert.ToHexString(sequence)} at {at}");
                }
                else
                {
                    bytes.InsertRange(at, sequence);
                    what = Invariant($"insert {Convert.ToHexString(sequence)} at {at}");
                }

                break;
            case "nul":
                var nuls = random.Next(1, 17);
                if (random.Next(2) == 0)
                {
                    bytes.InsertRange(at, new byte[nuls]);
                    what = Invariant($"insert {nuls} NULs at {at}");
                }
                else
                {
                    nuls = Math.Min(nuls, bytes.Count - at);
                    for (var i = 0; i < nuls; i++)
                    {
                        bytes[at + i] = 0;
                    }

                    what = Invariant($"overwrite {nuls} bytes at {at} with NUL");
                }

                break;
            case "duplicate-line" when lines.Count > 0:
                var (copyStart, copyLength) = lines[random.Next(lines.Count)];
                var to = random.Next(2) == 0 ? copyStart + copyLength : Boundary(lines, random, input.Length);
                bytes.InsertRange(to, input.AsSpan(copyStart, copyLength).ToArray());
                what = Invariant($"copy the line at {copyStart} ({copyLength} bytes) to {to}");
                break;
            case "swap-lines" when lines.Count > 1:
                var first = random.Next(lines.Count);
                var second = random.Next(lines.Count - 1);
                second += second >= first ? 1 : 0;
                (first, second) = (Math.Min(first, second), Math.Max(first, second));
                var order = Enumerable.Range(0, lines.Count).ToArray();
                (order[first], order[second]) = (order[second], order[first]);
                bytes = [.. order.SelectMany(i => input.AsSpan(lines[i].Start, lines[i].Length).ToArray())];
                what = Invariant($"swap lines {first} and {second}");
                break;
            case "delete-line" when lines.Count > 0:
                var gone = random.Next(lines.Count);
                bytes.RemoveRange(lines[gone].Start, lines[gone].Length);
                what = Invariant($"delete line {gone}");
                break;
            case "zero" when bytes.Count > 0:
                var zeros = Math.Min(random.Next(1, 65), bytes.Count - at);
                for (var i = 0; i < zeros; i++)
                {
                    bytes[at + i] = 0;
                }

                what = Invariant($"zero {zeros} bytes at {at}");
                break;
            case "garbage-tail":
                var tail = new byte[random.Next(1, 200)];
                random.NextBytes(tail);
                bytes.AddRange(tail);
                what = Invariant($"append {tail.Length} random bytes");
                break;
            case "crlf" when lines.Count > 0:
                var (crStart, crLength) = lines[random.Next(lines.Count)];
                var newline = crStart + crLength - 1;
                if (input[newline] == '\n')
                {
                    bytes.Insert(newline, (byte)'\r');
                    what = Invariant($"CR before the LF at {newline}");
                }
                else
                {
                    bytes.Add((byte)'\r');
                    what = "CR at the end";
                }

                break;
            default:
                what = $"{kind} (nothing to do: empty input)";
                break;
        }

        return [.. bytes];
    }

    /// <summary>Each line's start and length, its '\n' included (the last line may lack one).</summary>
    public static List<(int Start, int Length)> LineSpans(ReadOnlySpan<byte> bytes)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        while (start < bytes.Length)
        {
            var newline = bytes[start..].IndexOf((byte)'\n');
            var length = newline < 0 ? bytes.Length - start : newline + 1;
            lines.Add((start, length));
            start += length;
        }

        return lines;
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Show(byte b) => b is >= 0x20 and < 0x7F ? $"'{(char)b}'" : Invariant($"0x{b:X2}");

    private static int Position(byte[] input, List<(int Start, int Length)> lines, Random random)
    {
        switch (random.Next(5))
        {
            case 0 or 1:
                return random.Next(input.Length);
            case 2 or 3 when lines.Count > 0:
                // Near a line start: where "seq" and the first keys are.
                var (start, length) = lines[random.Next(lines.Count)];
                return start + random.Next(Math.Min(length, 16));
            default:
                // On JSON punctuation: a few random draws find some in any JSON text, without a pass over the file.
                for (var tries = 0; tries < 64; tries++)
                {
                    var at = random.Next(input.Length);
                    if (input[at] is (byte)'"' or (byte)':' or (byte)',' or (byte)'{' or (byte)'}' or (byte)'[' or (byte)']')
                    {
                        return at;
                    }
                }

                return random.Next(input.Length);
        }
    }

    private static int Boundary(List<(int Start, int Length)> lines, Random random, int end) =>
        lines.Count == 0 ? end : random.Next(lines.Count + 1) is var i && i == lines.Count ? end : lines[i].Start;

    private static List<(int Start, int Length)> DigitRuns(byte[] input)
    {
        var runs = new List<(int, int)>();
        for (var i = 0; i < input.Length;)
        {
            if (input[i] is >= (byte)'0' and <= (byte)'9')
            {
                var start = i;
                while (i < input.Length && input[i] is >= (byte)'0' and <= (byte)'9')
                {
                    i++;
                }

                runs.Add((start, i - start));
            }
            else
            {
                i++;
            }
        }

        return runs;
    }
}

using System.Buffers;
using System.Text.Json;
using FluentAssertions;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>The binary search over byte offsets that finds where a sequence starts in a messages file.</summary>
public sealed class JsonSequenceSearchTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private string PathOfMessages => Path.Combine(_folder.Parent, "messages.jsonl");

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OffsetOfFirstAtLeast_LinesOfVaryingLengthWithGaps_MatchesALinearScan(bool interpolate)
    {
        var random = new Random(7);
        var lines = new List<(long Sequence, long Offset)>();
        long sequence = 0;
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonMessageLine.WriterOptions))
        {
            for (var i = 0; i < 3000; i++)
            {
                sequence += random.Next(10) == 0 ? random.Next(2, 50) : 1;
                lines.Add((sequence, buffer.WrittenCount));

                // Mostly short lines, some of 20-70 KiB: longer than a probe's block and than the final scan's range.
                var length = random.Next(40) == 0 ? random.Next(20_000, 70_000) : random.Next(10, 600);
                Write(writer, buffer, sequence, new string('x', length));
            }
        }

        File.WriteAllBytes(PathOfMessages, buffer.WrittenSpan.ToArray());
        using var file = File.OpenHandle(PathOfMessages);

        for (long target = 0; target <= sequence + 1; target++)
        {
            var expected = lines.FirstOrDefault(l => l.Sequence >= target, (0, buffer.WrittenCount)).Item2;
            var found = interpolate
                ? JsonSequenceSearch.OffsetOfFirstAtLeast(file, buffer.WrittenCount, target, lines[0].Sequence, sequence)
                : JsonSequenceSearch.OffsetOfFirstAtLeast(file, buffer.WrittenCount, target);
            found.Should().Be(expected, "target {0}", target);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OffsetOfFirstAtLeast_DamagedLines_AreSteppedOverAndValidLinesStillFound(bool interpolate)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var offsets = new Dictionary<long, long>();
        using (var writer = new Utf8JsonWriter(buffer, JsonMessageLine.WriterOptions))
        {
            for (long s = 1; s <= 2000; s++)
            {
                if (s % 97 == 0 || (s > 1000 && s < 1060))
                {
                    buffer.Write("{\"seq\":9999999,\"id\":\"broken\",\"cont"u8); // damaged: never a valid line
                    buffer.Write("\n"u8);
                    continue;
                }

                offsets[s] = buffer.WrittenCount;
                Write(writer, buffer, s, new string('y', 200));
            }
        }

        File.WriteAllBytes(PathOfMessages, buffer.WrittenSpan.ToArray());
        using var file = File.OpenHandle(PathOfMessages);

        foreach (var (s, offset) in offsets)
        {
            var found = interpolate
                ? JsonSequenceSearch.OffsetOfFirstAtLeast(file, buffer.WrittenCount, s, 1, 2000)
                : JsonSequenceSearch.OffsetOfFirstAtLeast(file, buffer.WrittenCount, s);

            // Damaged lines just before a valid one may fall on either side; the first valid line from there must be s.
            found.Should().BeLessThanOrEqualTo(offset);
            FirstValidFrom(file, found, buffer.WrittenCount).Should().Be(s);
        }
    }

    private static long FirstValidFrom(Microsoft.Win32.SafeHandles.SafeFileHandle file, long start, long end)
    {
        long first = 0;
        JsonLineScanner.Forward(file, start, end, (line, offset) =>
        {
            if (JsonMessageLine.TryReadHeader(line, out var s, out _, out _, out _))
            {
                first = s;
                return false;
            }

            return true;
        });
        return first;
    }

    private static void Write(Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer, long sequence, string content)
    {
        var message = new ChatMessage { Id = $"m-{sequence}", SessionId = "s", Sender = "a", Content = content, Sequence = sequence, Timestamp = DateTimeOffset.UnixEpoch };
        JsonMessageLine.Write(writer, buffer, message, DateTimeOffset.UnixEpoch, more: false);
    }
}

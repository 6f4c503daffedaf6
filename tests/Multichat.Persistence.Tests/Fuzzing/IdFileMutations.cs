using System.Buffers.Binary;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Damage to <c>ids.idx</c> (a 128-byte header of little-endian fields, then 8-byte slots): a header field set to a
/// value it must never hold, bit flips (mostly in the header), slots zeroed or overwritten, the slot checksum
/// recomputed over the damaged slots (a forged table: only the type rules apply), truncation and growth, and the
/// superseded flag.
/// </summary>
internal static class IdFileMutations
{
    private static readonly (string Name, int Offset, int Size)[] Fields =
    [
        ("magic", JsonIdFile.MagicAt, 8), ("version", JsonIdFile.VersionAt, 4), ("flags", JsonIdFile.FlagsAt, 4),
        ("capacity", JsonIdFile.CapacityAt, 8), ("count", JsonIdFile.CountAt, 8), ("incarnation", JsonIdFile.IncarnationAt, 8),
        ("indexedThrough", JsonIdFile.IndexedThroughAt, 8), ("syncedThrough", JsonIdFile.SyncedThroughAt, 8),
        ("bootTime", JsonIdFile.BootTimeAt, 8), ("bootId", JsonIdFile.BootIdAt, 8), ("highest", JsonIdFile.HighestAt, 8),
        ("checksum", JsonIdFile.ChecksumAt, 8),
    ];

    /// <summary>One mutation; <paramref name="forged"/> tells that the checksum was made to fit damaged slots.</summary>
    /// <param name="input">The id file's bytes.</param>
    /// <param name="lineEnds">Offsets just after each line of the messages file (IndexedThrough's proper values).</param>
    /// <param name="random">The iteration's source of choices.</param>
    /// <param name="what">What was done.</param>
    /// <param name="forged">Whether the slots no longer match what the messages file holds although the checksum says so.</param>
    public static byte[] Mutate(byte[] input, IReadOnlyList<long> lineEnds, Random random, out string what, out bool forged)
    {
        var bytes = (byte[])input.Clone();
        forged = false;
        var slots = (bytes.Length - JsonIdFile.HeaderSize) / 8;
        switch (random.Next(8))
        {
            case 0 or 1 or 2:
                var (name, offset, size) = Fields[random.Next(Fields.Length)];
                var old = size == 8 ? BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset)) : BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
                var value = random.Next(14) switch
                {
                    0 => 0,
                    1 => -1,
                    2 => 1,
                    3 => long.MaxValue,
                    4 => long.MinValue,
                    5 => old + 1,
                    6 => old - 1,
                    7 => old * 2,
                    8 => lineEnds[random.Next(lineEnds.Count)],
                    9 => lineEnds[random.Next(lineEnds.Count)] - random.Next(1, 40),
                    10 => 9_007_199_254_740_992,
                    11 => int.MaxValue,
                    12 => -lineEnds[^1],
                    _ => random.NextInt64(),
                };
                if (size == 8)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), value);
                }
                else
                {
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), unchecked((int)value));
                }

                what = ByteMutations.Invariant($"header {name} {old} -> {(size == 8 ? value : unchecked((int)value))}");
                break;
            case 3:
                var at = random.Next(2) == 0 ? random.Next(JsonIdFile.HeaderSize) : random.Next(bytes.Length);
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                what = ByteMutations.Invariant($"flip bit {bit} of byte {at}");
                break;
            case 4 or 5:
                var first = random.Next(slots);
                var count = Math.Min(slots - first, random.Next(1, 9));
                var zero = random.Next(2) == 0;
                for (var i = 0; i < count; i++)
                {
                    var slot = bytes.AsSpan(JsonIdFile.HeaderSize + ((first + i) * 8), 8);
                    if (zero)
                    {
                        slot.Clear();
                    }
                    else
                    {
                        random.NextBytes(slot);
                    }
                }

                what = ByteMutations.Invariant($"{(zero ? "zero" : "randomise")} {count} slots from {first}");
                if (random.Next(2) == 0)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(JsonIdFile.ChecksumAt), Checksum(bytes));
                    what += ", checksum forged";
                    forged = true;
                }

                break;
            case 6:
                var length = random.Next(3) switch
                {
                    0 => random.Next(JsonIdFile.HeaderSize + 1),
                    1 => random.Next(bytes.Length),
                    _ => bytes.Length + random.Next(1, 4096),
                };
                var resized = new byte[length];
                bytes.AsSpan(0, Math.Min(length, bytes.Length)).CopyTo(resized);
                if (length > bytes.Length && random.Next(2) == 0)
                {
                    random.NextBytes(resized.AsSpan(bytes.Length));
                }

                what = ByteMutations.Invariant($"resize {bytes.Length} -> {length} bytes");
                return resized;
            default:
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(JsonIdFile.FlagsAt), 1);
                what = "superseded flag set";
                break;
        }

        return bytes;
    }

    /// <summary>The slot checksum as the store keeps it: the sum of SplitMix64's finalizer over the occupied slots.</summary>
    private static ulong Checksum(byte[] bytes)
    {
        ulong sum = 0;
        for (var at = JsonIdFile.HeaderSize; at + 8 <= bytes.Length; at += 8)
        {
            var slot = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            if (slot != 0)
            {
                slot = (slot ^ (slot >> 30)) * 0xBF58476D1CE4E5B9;
                slot = (slot ^ (slot >> 27)) * 0x94D049BB133111EB;
                sum += slot ^ (slot >> 31);
            }
        }

        return sum;
    }
}

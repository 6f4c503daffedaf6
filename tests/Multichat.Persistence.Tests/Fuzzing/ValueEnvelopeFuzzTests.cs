using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Multichat.Persistence.Protection;
using static Multichat.Persistence.Tests.Fuzzing.FuzzChecks;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Issue #12 item 6, hostile files: the envelope decoder (<see cref="ValueEnvelope.Open"/>), fed with envelopes
/// sealed with and without a key ring and with and without compression (<c>compressAtLeast</c> 16), then damaged as
/// text (characters flipped, inserted, deleted, cut; padding, whitespace, non-ASCII) or as decoded bytes (header
/// fields, key id, declared length, nonce, ciphertext, tag, Brotli payload; and unencrypted envelopes forged whole),
/// and opened with the right ring, none, one lacking the key, one with another key under the same id, at the right
/// place or another, with the usual bound on plain bytes or a tiny one.
/// </summary>
/// <remarks>
/// Only <see cref="DecryptionFailedException"/> may come out (the documented outcome of a malformed, unknown-key or
/// tampered envelope). An encrypted envelope that opens gives back exactly what was sealed (the tag covers the header,
/// the ciphertext and the place): damage that changes nothing once decoded (whitespace in the base64) is the only way
/// through, and text that is no longer an envelope comes back as itself, as plain values do.
/// </remarks>
[Collection(FuzzGroup.Name)]
public sealed class ValueEnvelopeFuzzTests : IDisposable
{
    private const int MaxPlainBytes = 1024 * 1024;

    private static readonly ValueLocation[] Places =
    [
        ValueLocation.Content("s-1", "m-1"), ValueLocation.MessageMetadata("s-1", "m-1", "key"), ValueLocation.Title("s-1"),
        ValueLocation.SessionMetadata("s-1", "key"), ValueLocation.Content("s-2", "m-1"), ValueLocation.Content("s-1", "m-2"),
    ];

    private static readonly string[] Plains =
    [
        "hello", "", "mc1:looks like an envelope", "mc1:", "mc1:AQAAAA==", "a bit longer than sixteen bytes",
        string.Concat(Enumerable.Repeat("compressible text, ", 200)), "日本語のテキスト 😀 ü ß", string.Concat(Enumerable.Repeat("😀", 40)),
        "mc1:" + string.Concat(Enumerable.Repeat("x", 100)), "\u0001\u0000control\u001f",
    ];

    private readonly EncryptionKeyRing _ring = new("k", [new("k", Key(1))]);
    private readonly EncryptionKeyRing _otherId = new("k2", [new("k2", Key(1))]);
    private readonly EncryptionKeyRing _otherKey = new("k", [new("k", Key(2))]);

    public void Dispose()
    {
        _ring.Dispose();
        _otherId.Dispose();
        _otherKey.Dispose();
    }

    [Fact]
    public Task Open_MutatedEnvelopes_FailsOnlyWithDecryptionFailedAndNeverReturnsAlteredText() =>
        // Five times the usual count: an input costs ~30 µs here, and the decoder has more branches than inputs of 10,000 reach often.
        new FuzzRun("value envelope", 61_220, share: 5).RunAsync((iteration, random, fuzzCase, _) => Task.FromResult(Iterate(iteration, random, fuzzCase)));

    private string Iterate(int iteration, Random random, FuzzCase fuzzCase)
    {
        var encrypted = (iteration & 1) == 0;
        var compressAtLeast = (iteration & 2) == 0 ? 16 : 0;
        var plain = Plains[random.Next(Plains.Length)];
        var place = Places[random.Next(4)];
        var sealedText = ValueEnvelope.Seal(plain, place, encrypted ? _ring : null, compressAtLeast);
        fuzzCase.Input = $"'{Shorten(plain)}' sealed as {Shorten(sealedText)}";
        var mutated = random.Next(2) == 0 ? MutateText(sealedText, random, out var what) : MutateBytes(sealedText, random, out what);
        if (random.Next(50) == 0)
        {
            (mutated, what) = (sealedText, "unchanged");
        }

        var (ring, ringName) = random.Next(8) switch
        {
            0 => ((EncryptionKeyRing?)null, "no ring"),
            1 => (_otherId, "a ring without key k"),
            2 => (_otherKey, "another key named k"),
            _ => (_ring, "the ring"),
        };
        var at = random.Next(5) == 0 ? Places[random.Next(Places.Length)] : place;
        var max = random.Next(10) == 0 ? 8 : MaxPlainBytes;
        fuzzCase.Input = $"{(encrypted ? "encrypted" : "plain")}, compressAtLeast {compressAtLeast}, '{Shorten(plain)}' sealed as {Shorten(sealedText)}; {what} -> {Shorten(mutated)}; opened with {ringName} at {at.Describe()}, max {max}";

        string? opened;
        try
        {
            opened = ValueEnvelope.Open(mutated, at, ring, max);
        }
        catch (DecryptionFailedException)
        {
            return $"{(encrypted ? "encrypted" : "plain")}: DecryptionFailedException";
        }
        catch (Exception ex)
        {
            throw new FuzzViolationException($"Open threw {ex.GetType().FullName}: {ex.Message}\n{ex}");
        }

        if (!ValueEnvelope.IsEnvelope(mutated))
        {
            Rule(opened == mutated, "a value that is no envelope did not come back as itself");
            return "no longer an envelope: returned as is";
        }

        if (encrypted && ring is not null && ValueEnvelope.KeyIdOf(mutated) is not null)
        {
            Rule(opened == plain, $"an encrypted envelope opened to '{Shorten(opened)}' instead of what was sealed");
            Rule(ring == _ring && at == place, "an encrypted envelope opened with the wrong key or at another place");
        }

        return $"{(encrypted ? "encrypted" : "plain")}: opened{(opened == plain ? "" : " to other text (unencrypted)")}";
    }

    private static string MutateText(string envelope, Random random, out string what)
    {
        var text = new StringBuilder(envelope);
        var at = random.Next(text.Length + 1);
        switch (random.Next(9))
        {
            case 0 when at < text.Length:
                const string Base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
                text[at] = Base64[random.Next(Base64.Length)];
                what = $"char {at} -> '{text[at]}'";
                break;
            case 1:
                var inserted = random.Next(4) switch { 0 => " ", 1 => "=", 2 => "\n", _ => "\ud800" };
                text.Insert(at, inserted);
                what = $"insert {(inserted == "\ud800" ? "a lone surrogate" : $"'{inserted}'")} at {at}";
                break;
            case 2 when at < text.Length:
                var count = Math.Min(text.Length - at, random.Next(1, 5));
                text.Remove(at, count);
                what = $"delete {count} chars at {at}";
                break;
            case 3:
                text.Length = random.Next(text.Length + 1);
                what = $"cut to {text.Length} chars";
                break;
            case 4:
                text.Append(random.Next(2) == 0 ? "==" : "AAAA");
                what = "append padding or a group";
                break;
            case 5 when at < text.Length:
                text[at] = (char)random.Next(0x80, 0x3000);
                what = $"char {at} -> U+{(int)text[at]:X4}";
                break;
            case 6:
                text.Insert(Math.Min(text.Length, Math.Max(4, at)), new string('A', random.Next(1, 4) * 4_000));
                what = "insert thousands of 'A'";
                break;
            default:
                if (at < text.Length)
                {
                    text[at] = (char)(text[at] ^ (1 << random.Next(7)));
                }

                what = $"flip a bit of char {at}";
                break;
        }

        return text.ToString();
    }

    private static string MutateBytes(string envelope, Random random, out string what)
    {
        if (!ValueEnvelope.IsEnvelope(envelope))
        {
            what = "no envelope to decode";
            return envelope;
        }

        var bytes = Convert.FromBase64String(envelope[ValueEnvelope.Prefix.Length..]).ToList();
        var keyIdLength = bytes[3];
        var body = 4 + keyIdLength;
        switch (random.Next(10))
        {
            case 0:
                var field = random.Next(4);
                var value = (byte)(random.Next(3) switch { 0 => random.Next(256), 1 => random.Next(3), _ => new[] { 63, 64, 65, 255 }[random.Next(4)] });
                bytes[field] = value;
                what = $"header byte {field} -> {value}";
                break;
            case 1 when keyIdLength > 0:
                bytes[4 + random.Next(keyIdLength)] = (byte)random.Next(256);
                what = "a key id byte changed";
                break;
            case 2:
                // Forge an unencrypted envelope around a payload of our choosing: reaches the decoders with no tag in the way.
                var payload = ForgedPayload(random, out var kind, out var brotli);
                bytes = [1, 0, (byte)(brotli ? 1 : 0), 0, .. payload];
                what = $"forged unencrypted envelope: {kind}";
                break;
            case 3 when bytes.Count > body + 4:
                // The declared plain length of a compressed payload (first 4 payload bytes of an unencrypted one).
                var declared = random.Next(5) switch { 0 => -1, 1 => int.MaxValue, 2 => MaxPlainBytes + 1, 3 => 0, _ => random.Next(1, 5000) };
                var span = bytes.ToArray();
                BinaryPrimitives.WriteInt32LittleEndian(span.AsSpan(body), declared);
                bytes = [.. span];
                what = $"declared length -> {declared}";
                break;
            case 4:
                var length = random.Next(bytes.Count + 1);
                bytes.RemoveRange(length, bytes.Count - length);
                what = $"cut to {length} bytes";
                break;
            case 5:
                var extra = new byte[random.Next(1, 40)];
                random.NextBytes(extra);
                bytes.AddRange(extra);
                what = $"{extra.Length} bytes appended";
                break;
            default:
                var at = random.Next(bytes.Count);
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                what = $"flip bit {bit} of byte {at} (of {bytes.Count}; body from {body})";
                break;
        }

        return ValueEnvelope.Prefix + Convert.ToBase64String([.. bytes]);
    }

    private static byte[] ForgedPayload(Random random, out string kind, out bool brotli)
    {
        var raw = new byte[random.Next(0, 64)];
        random.NextBytes(raw);
        brotli = random.Next(3) > 0;
        if (!brotli)
        {
            kind = "random bytes as UTF-8";
            return raw;
        }

        // Brotli of random bytes (invalid UTF-8 once decompressed), or random bytes posing as Brotli, or a cut stream.
        var text = random.Next(2) == 0 ? raw : Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("abc", random.Next(1, 2000))));
        var compressed = new byte[BrotliEncoder.GetMaxCompressedLength(text.Length)];
        BrotliEncoder.TryCompress(text, compressed, out var written);
        var stream = random.Next(3) switch
        {
            0 => raw,
            1 => compressed.AsSpan(0, random.Next(written + 1)).ToArray(),
            _ => compressed.AsSpan(0, written).ToArray(),
        };
        var declared = random.Next(3) == 0 ? random.Next(-2, 10_000) : text.Length;
        var payload = new byte[4 + stream.Length];
        BinaryPrimitives.WriteInt32LittleEndian(payload, declared);
        stream.CopyTo(payload, 4);
        kind = $"Brotli of {text.Length} bytes, {stream.Length} of {written} compressed bytes, declared {declared}";
        return payload;
    }

    private static string Shorten(string? text) => text is null ? "(null)" : text.Length <= 60 ? text : text[..60] + $"…({text.Length} chars)";

    private static byte[] Key(byte seed) => [.. Enumerable.Range(0, EncryptionKeyRing.KeySize).Select(i => (byte)(i * 7 + seed))];
}

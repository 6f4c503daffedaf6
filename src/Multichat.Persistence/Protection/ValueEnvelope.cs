using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Multichat.Persistence.Protection;

/// <summary>
/// The stored form of a protected value: <c>"mc1:"</c> followed by the base64 of
/// <c>version (1) | algorithm (0 none, 1 AES-256-GCM) | flags (1 = Brotli) | key id length | key id (ASCII)</c>, then for
/// AES-256-GCM <c>nonce (12) | ciphertext | tag (16)</c>, else the payload. A Brotli payload starts with the plain
/// UTF-8 length (4 bytes, little-endian). The associated data of AES-GCM is a fixed label, the header and the value's
/// <see cref="ValueLocation"/>, so neither the header nor the value's place can be changed without the tag failing.
/// Values that are not envelopes are plain text (stored before protection was on, or too short to compress).
/// </summary>
internal static class ValueEnvelope
{
    public const string Prefix = "mc1:";
    public const int NonceSize = 12;
    public const int TagSize = 16;

    private const byte Version = 1;
    private const byte AlgorithmNone = 0;
    private const byte AlgorithmAesGcm = 1;
    private const byte FlagBrotli = 1;
    private const int BrotliQuality = 5;
    private const int BrotliWindow = 22;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly byte[] Label = "multichat.persistence/value/1"u8.ToArray();

    public static bool IsEnvelope(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// The stored form of <paramref name="plain"/>: encrypted under the ring's current key when there is a ring,
    /// compressed first when <paramref name="compressAtLeast"/> bytes or more and smaller so, and plain when neither
    /// applies (unless the plain text itself looks like an envelope: then an unencrypted envelope keeps it apart).
    /// </summary>
    public static string Seal(string plain, in ValueLocation where, EncryptionKeyRing? ring, int compressAtLeast)
    {
        // Nothing to do (no key, and too short to compress even at 3 UTF-8 bytes a character): the common path of a
        // store without protection costs one prefix check.
        if (ring is null && (compressAtLeast <= 0 || 3L * plain.Length < compressAtLeast) && !IsEnvelope(plain))
        {
            return plain;
        }

        var plainLength = StrictUtf8.GetByteCount(plain);
        var rented = ArrayPool<byte>.Shared.Rent(plainLength);
        byte[]? compressedRent = null;
        try
        {
            var utf8 = rented.AsSpan(0, StrictUtf8.GetBytes(plain, rented));
            ReadOnlySpan<byte> payload = utf8;
            byte flags = 0;
            if (compressAtLeast > 0 && plainLength >= compressAtLeast)
            {
                compressedRent = ArrayPool<byte>.Shared.Rent(4 + BrotliEncoder.GetMaxCompressedLength(plainLength));
                BinaryPrimitives.WriteInt32LittleEndian(compressedRent, plainLength);
                if (BrotliEncoder.TryCompress(utf8, compressedRent.AsSpan(4), out var written, BrotliQuality, BrotliWindow) && 4 + written < plainLength)
                {
                    payload = compressedRent.AsSpan(0, 4 + written);
                    flags = FlagBrotli;
                }
            }

            if (ring is null && flags == 0 && !IsEnvelope(plain))
            {
                return plain;
            }

            var key = ring?.Current;
            var keyId = key is null ? [] : key.IdBytes;
            var headerLength = 4 + keyId.Length;
            var total = headerLength + (key is null ? payload.Length : NonceSize + payload.Length + TagSize);
            var bytesRent = ArrayPool<byte>.Shared.Rent(total);
            try
            {
                var bytes = bytesRent.AsSpan(0, total);
                bytes[0] = Version;
                bytes[1] = key is null ? AlgorithmNone : AlgorithmAesGcm;
                bytes[2] = flags;
                bytes[3] = (byte)keyId.Length;
                keyId.CopyTo(bytes[4..]);
                var body = bytes[headerLength..];
                if (key is null)
                {
                    payload.CopyTo(body);
                }
                else
                {
                    var nonce = body[..NonceSize];
                    NonceSource.Fill(nonce);
                    Encrypt(key, nonce, payload, body.Slice(NonceSize, payload.Length), body[(NonceSize + payload.Length)..], bytes[..headerLength], where);
                }

                return ToText(bytesRent, total);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(bytesRent);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
            if (compressedRent is not null)
            {
                ArrayPool<byte>.Shared.Return(compressedRent);
            }
        }
    }

    /// <summary>The plain text of a stored value (itself when it is no envelope).</summary>
    /// <param name="stored">The stored form.</param>
    /// <param name="where">Where the value belongs; must be where it was sealed.</param>
    /// <param name="ring">The keys that may decrypt; <see langword="null"/> when encryption is off.</param>
    /// <param name="maxPlainBytes">The largest plain value a compressed envelope may declare (a bound against
    /// decompression bombs).</param>
    /// <exception cref="DecryptionFailedException">The envelope is malformed, names a key the ring lacks, or fails its
    /// tag (wrong key, tampered, or moved).</exception>
    public static string Open(string stored, in ValueLocation where, EncryptionKeyRing? ring, int maxPlainBytes)
    {
        if (!IsEnvelope(stored))
        {
            return stored;
        }

        var text = stored.AsSpan(Prefix.Length);
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, text.Length / 4 * 3 + 3));
        try
        {
            if (!TryFromBase64(text, rented, out var length) || length < 4)
            {
                throw Failed(where, keyId: null, "the envelope is not well-formed");
            }

            var bytes = rented.AsSpan(0, length);
            var keyIdLength = bytes[3];
            if (bytes[0] != Version || bytes[1] > AlgorithmAesGcm || (bytes[2] & ~FlagBrotli) != 0 || keyIdLength > EncryptionKeyRing.MaxKeyIdLength
                || length < 4 + keyIdLength || (bytes[1] == AlgorithmAesGcm) != (keyIdLength > 0))
            {
                throw Failed(where, keyId: null, "the envelope's header is not one this version writes");
            }

            var keyId = keyIdLength == 0 ? null : ReadKeyId(bytes.Slice(4, keyIdLength), where);
            var header = bytes[..(4 + keyIdLength)];
            var body = bytes[header.Length..];
            ReadOnlySpan<byte> payload = body;
            byte[]? plainRent = null;
            try
            {
                if (bytes[1] == AlgorithmAesGcm)
                {
                    if (ring is null)
                    {
                        throw Failed(where, keyId, "encryption is not configured, so no key can decrypt it");
                    }

                    var key = ring.Slot(keyId!) ?? throw Failed(where, keyId, "that key is not in the key ring");
                    if (body.Length < NonceSize + TagSize)
                    {
                        throw Failed(where, keyId, "the envelope is truncated");
                    }

                    var cipherLength = body.Length - NonceSize - TagSize;
                    plainRent = ArrayPool<byte>.Shared.Rent(Math.Max(1, cipherLength));
                    var plain = plainRent.AsSpan(0, cipherLength);
                    Decrypt(key, body[..NonceSize], body.Slice(NonceSize, cipherLength), body[(NonceSize + cipherLength)..], plain, header, where);
                    payload = plain;
                }

                return (bytes[2] & FlagBrotli) != 0 ? Decompress(payload, where, keyId, maxPlainBytes) : Decode(payload, where, keyId);
            }
            finally
            {
                if (plainRent is not null)
                {
                    CryptographicOperations.ZeroMemory(plainRent);
                    ArrayPool<byte>.Shared.Return(plainRent);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The key id an encrypted envelope names; <see langword="null"/> for plain text, unencrypted or malformed envelopes.</summary>
    public static string? KeyIdOf(string stored)
    {
        if (!IsEnvelope(stored) || stored.Length < Prefix.Length + 8)
        {
            return null;
        }

        // The header is at most 68 bytes: decode just enough base64 to read it.
        Span<byte> head = stackalloc byte[72];
        var chars = stored.AsSpan(Prefix.Length, Math.Min(96, (stored.Length - Prefix.Length) / 4 * 4));
        if (!Convert.TryFromBase64Chars(chars, head, out var length) || length < 4 || head[1] != AlgorithmAesGcm || length < 4 + head[3])
        {
            return null;
        }

        var id = Encoding.ASCII.GetString(head.Slice(4, head[3]));
        return EncryptionKeyRing.IsValidKeyId(id) ? id : null;
    }

    private static void Encrypt(
        EncryptionKeySlot key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plain, Span<byte> cipher, Span<byte> tag, ReadOnlySpan<byte> header, in ValueLocation where)
    {
        var aad = AssociatedData(header, where, out var aadRent);
        var aes = key.Rent();
        try
        {
            aes.Encrypt(nonce, plain, cipher, tag, aad);
        }
        finally
        {
            key.Return(aes);
            ArrayPool<byte>.Shared.Return(aadRent);
        }
    }

    private static void Decrypt(
        EncryptionKeySlot key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> cipher, ReadOnlySpan<byte> tag, Span<byte> plain, ReadOnlySpan<byte> header, in ValueLocation where)
    {
        var aad = AssociatedData(header, where, out var aadRent);
        var aes = key.Rent();
        try
        {
            aes.Decrypt(nonce, cipher, tag, plain, aad);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Failed(where, key.Id, "the key is wrong, or the value was changed or moved from elsewhere");
        }
        catch (CryptographicException)
        {
            throw Failed(where, key.Id, "the cipher refused it");
        }
        finally
        {
            key.Return(aes);
            ArrayPool<byte>.Shared.Return(aadRent);
        }
    }

    /// <summary>label | field | header | len+session id | len+message id | len+metadata key (lengths 4 bytes, little-endian).</summary>
    private static ReadOnlySpan<byte> AssociatedData(ReadOnlySpan<byte> header, in ValueLocation where, out byte[] rent)
    {
        var session = where.SessionId;
        var message = where.MessageId ?? string.Empty;
        var metadataKey = where.MetadataKey ?? string.Empty;
        var size = Label.Length + 1 + header.Length + 12 + Encoding.UTF8.GetByteCount(session) + Encoding.UTF8.GetByteCount(message)
            + Encoding.UTF8.GetByteCount(metadataKey);
        rent = ArrayPool<byte>.Shared.Rent(size);
        var span = rent.AsSpan();
        Label.CopyTo(span);
        var at = Label.Length;
        span[at++] = (byte)where.Field;
        header.CopyTo(span[at..]);
        at += header.Length;
        at = WritePart(span, at, session);
        at = WritePart(span, at, message);
        at = WritePart(span, at, metadataKey);
        return span[..at];
    }

    private static int WritePart(Span<byte> span, int at, string part)
    {
        var written = Encoding.UTF8.GetBytes(part, span[(at + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], written);
        return at + 4 + written;
    }

    private static string Decompress(ReadOnlySpan<byte> payload, in ValueLocation where, string? keyId, int maxPlainBytes)
    {
        if (payload.Length < 4)
        {
            throw Failed(where, keyId, "the compressed payload is truncated");
        }

        var declared = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (declared < 0 || declared > maxPlainBytes)
        {
            throw Failed(where, keyId, $"the compressed payload declares {declared} bytes, more than the {maxPlainBytes} a value may have");
        }

        var rent = ArrayPool<byte>.Shared.Rent(Math.Max(1, declared));
        try
        {
            if (!BrotliDecoder.TryDecompress(payload[4..], rent.AsSpan(0, declared), out var written) || written != declared)
            {
                throw Failed(where, keyId, "the compressed payload does not decompress to its declared length");
            }

            return Decode(rent.AsSpan(0, declared), where, keyId);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rent);
        }
    }

    private static string Decode(ReadOnlySpan<byte> utf8, in ValueLocation where, string? keyId)
    {
        try
        {
            return StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException)
        {
            throw Failed(where, keyId, "the payload is not UTF-8 text");
        }
    }

    private static string ReadKeyId(ReadOnlySpan<byte> ascii, in ValueLocation where)
    {
        var id = Encoding.ASCII.GetString(ascii);
        return EncryptionKeyRing.IsValidKeyId(id) ? id : throw Failed(where, keyId: null, "the envelope's key id is malformed");
    }

    /// <summary>
    /// Base64 of UTF-16 text, decoded through its ASCII bytes: <see cref="Convert.TryFromBase64Chars"/> is not vectorized
    /// and costs as much as AES-GCM on a 4 KiB value, while narrowing and <see cref="Base64.DecodeFromUtf8(ReadOnlySpan{byte}, Span{byte}, out int, out int, bool)"/>
    /// are. A character above U+00FF becomes '?' on the way, which is no base64: the envelope is refused as malformed.
    /// </summary>
    private static bool TryFromBase64(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        var ascii = ArrayPool<byte>.Shared.Rent(Math.Max(1, text.Length));
        try
        {
            var count = Encoding.Latin1.GetBytes(text, ascii);
            var status = Base64.DecodeFromUtf8(ascii.AsSpan(0, count), destination, out var consumed, out written);
            return status == OperationStatus.Done && consumed == count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(ascii);
        }
    }

    /// <summary>The prefix and the base64 of <paramref name="length"/> bytes of <paramref name="bytes"/>, written straight
    /// into the new string (no intermediate buffer).</summary>
    private static string ToText(byte[] bytes, int length) =>
        string.Create(Prefix.Length + (length + 2) / 3 * 4, (bytes, length), static (chars, state) =>
        {
            Prefix.CopyTo(chars);
            Convert.TryToBase64Chars(state.bytes.AsSpan(0, state.length), chars[Prefix.Length..], out _);
        });

    private static DecryptionFailedException Failed(in ValueLocation where, string? keyId, string reason) => new(
        $"Could not decrypt {where.Describe()}{(keyId is null ? string.Empty : $" (key '{keyId}')")}: {reason}.",
        where.SessionId, where.MessageId, keyId);
}

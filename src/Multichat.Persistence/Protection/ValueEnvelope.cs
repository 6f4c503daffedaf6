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

    /// <summary>Associated data up to this size is built on the stack.</summary>
    private const int StackLimit = 512;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly byte[] Label = "multichat.persistence/value/1"u8.ToArray();

    public static bool IsEnvelope(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// The stored form of <paramref name="plain"/>: encrypted under the ring's current key when there is a ring,
    /// compressed first when <paramref name="compressAtLeast"/> bytes or more and smaller so, and plain when neither
    /// applies (unless the plain text itself looks like an envelope: then an unencrypted envelope keeps it apart).
    /// </summary>
    /// <remarks>
    /// One rented buffer holds the whole envelope: the UTF-8 text is written where the ciphertext goes and encrypted in
    /// place, so a value costs one encoding pass, one AES-GCM call and one base64 pass into the returned string.
    /// </remarks>
    public static string Seal(string plain, in ValueLocation where, EncryptionKeyRing? ring, int compressAtLeast)
    {
        // Nothing to do (no key, and too short to compress even at 3 UTF-8 bytes a character): the common path of a
        // store without protection costs one prefix check.
        var mayCompress = compressAtLeast > 0 && 3L * plain.Length >= compressAtLeast;
        if (ring is null && !mayCompress && !IsEnvelope(plain))
        {
            return plain;
        }

        var key = ring?.Current;
        var keyId = key is null ? [] : key.IdBytes;
        var headerLength = 4 + keyId.Length;
        var bodyStart = headerLength + (key is null ? 0 : NonceSize);
        var maxPlain = StrictUtf8.GetMaxByteCount(plain.Length);
        var rented = ArrayPool<byte>.Shared.Rent(bodyStart + maxPlain + TagSize);
        try
        {
            var payloadLength = StrictUtf8.GetBytes(plain, rented.AsSpan(bodyStart, maxPlain));
            byte flags = 0;
            if (mayCompress && payloadLength >= compressAtLeast && TryCompressInPlace(rented.AsSpan(bodyStart, payloadLength), out var compressedLength))
            {
                payloadLength = compressedLength;
                flags = FlagBrotli;
            }

            if (key is null && flags == 0 && !IsEnvelope(plain))
            {
                return plain;
            }

            var bytes = rented.AsSpan();
            bytes[0] = Version;
            bytes[1] = key is null ? AlgorithmNone : AlgorithmAesGcm;
            bytes[2] = flags;
            bytes[3] = (byte)keyId.Length;
            keyId.CopyTo(bytes[4..]);
            var total = bodyStart + payloadLength;
            if (key is not null)
            {
                NonceSource.Fill(bytes.Slice(headerLength, NonceSize));
                var payload = bytes.Slice(bodyStart, payloadLength);
                Encrypt(key, bytes.Slice(headerLength, NonceSize), payload, bytes.Slice(total, TagSize), bytes[..headerLength], where);
                total += TagSize;
            }

            return ToText(rented, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
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
    /// <remarks>One rented buffer serves every step: the base64 is narrowed into it, decoded in place, and the
    /// ciphertext decrypted in place; the buffer is zeroed before it goes back to the pool.</remarks>
    public static string Open(string stored, in ValueLocation where, EncryptionKeyRing? ring, int maxPlainBytes)
    {
        if (!IsEnvelope(stored))
        {
            return stored;
        }

        var text = stored.AsSpan(Prefix.Length);
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(4, text.Length));
        var used = 0;
        try
        {
            if (!TryFromBase64InPlace(text, rented, out var length) || length < 4)
            {
                throw Failed(where, keyId: null, "the envelope is not well-formed");
            }

            used = length;
            var bytes = rented.AsSpan(0, length);
            var keyIdLength = bytes[3];
            if (bytes[0] != Version || bytes[1] > AlgorithmAesGcm || (bytes[2] & ~FlagBrotli) != 0 || keyIdLength > EncryptionKeyRing.MaxKeyIdLength
                || length < 4 + keyIdLength || (bytes[1] == AlgorithmAesGcm) != (keyIdLength > 0))
            {
                throw Failed(where, keyId: null, "the envelope's header is not one this version writes");
            }

            var header = bytes[..(4 + keyIdLength)];
            var body = bytes[header.Length..];
            string? keyId = null;
            if (bytes[1] == AlgorithmAesGcm)
            {
                var key = ring?.Slot(bytes.Slice(4, keyIdLength));
                if (key is null)
                {
                    keyId = ReadKeyId(bytes.Slice(4, keyIdLength), where);
                    throw Failed(where, keyId, ring is null ? "encryption is not configured, so no key can decrypt it" : "that key is not in the key ring");
                }

                keyId = key.Id;
                if (body.Length < NonceSize + TagSize)
                {
                    throw Failed(where, keyId, "the envelope is truncated");
                }

                var cipher = body.Slice(NonceSize, body.Length - NonceSize - TagSize);
                Decrypt(key, body[..NonceSize], cipher, body[^TagSize..], header, where);
                body = cipher;
            }

            return (bytes[2] & FlagBrotli) != 0 ? Decompress(body, where, keyId, maxPlainBytes) : Decode(body, where, keyId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented.AsSpan(0, used));
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

    /// <summary>Encrypts <paramref name="data"/> in place.</summary>
    private static void Encrypt(
        EncryptionKeySlot key, ReadOnlySpan<byte> nonce, Span<byte> data, Span<byte> tag, ReadOnlySpan<byte> header, in ValueLocation where)
    {
        byte[]? aadRent = null;
        var size = AssociatedDataSize(header, where);
        var aad = WriteAssociatedData(size <= StackLimit ? stackalloc byte[size] : (aadRent = ArrayPool<byte>.Shared.Rent(size)), header, where);
        var aes = key.Rent();
        try
        {
            aes.Encrypt(nonce, data, data, tag, aad);
        }
        finally
        {
            key.Return(aes);
            if (aadRent is not null)
            {
                ArrayPool<byte>.Shared.Return(aadRent);
            }
        }
    }

    /// <summary>Decrypts <paramref name="data"/> in place.</summary>
    private static void Decrypt(
        EncryptionKeySlot key, ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> header, in ValueLocation where)
    {
        byte[]? aadRent = null;
        var size = AssociatedDataSize(header, where);
        var aad = WriteAssociatedData(size <= StackLimit ? stackalloc byte[size] : (aadRent = ArrayPool<byte>.Shared.Rent(size)), header, where);
        var aes = key.Rent();
        try
        {
            aes.Decrypt(nonce, data, tag, data, aad);
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
            if (aadRent is not null)
            {
                ArrayPool<byte>.Shared.Return(aadRent);
            }
        }
    }

    /// <summary>An upper bound of the associated data's size (3 UTF-8 bytes a character, so no counting pass).</summary>
    private static int AssociatedDataSize(ReadOnlySpan<byte> header, in ValueLocation where) =>
        Label.Length + 1 + header.Length + 12
        + 3 * (where.SessionId.Length + (where.MessageId?.Length ?? 0) + (where.MetadataKey?.Length ?? 0));

    /// <summary>label | field | header | len+session id | len+message id | len+metadata key (lengths 4 bytes, little-endian).</summary>
    private static ReadOnlySpan<byte> WriteAssociatedData(Span<byte> span, ReadOnlySpan<byte> header, in ValueLocation where)
    {
        Label.CopyTo(span);
        var at = Label.Length;
        span[at++] = (byte)where.Field;
        header.CopyTo(span[at..]);
        at += header.Length;
        at = WritePart(span, at, where.SessionId);
        at = WritePart(span, at, where.MessageId ?? string.Empty);
        at = WritePart(span, at, where.MetadataKey ?? string.Empty);
        return span[..at];
    }

    private static int WritePart(Span<byte> span, int at, string part)
    {
        var written = Encoding.UTF8.GetBytes(part, span[(at + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], written);
        return at + 4 + written;
    }

    /// <summary>Replaces <paramref name="utf8"/>'s front with its declared length and its Brotli form when that is
    /// shorter than the text.</summary>
    private static bool TryCompressInPlace(Span<byte> utf8, out int length)
    {
        var rent = ArrayPool<byte>.Shared.Rent(4 + BrotliEncoder.GetMaxCompressedLength(utf8.Length));
        try
        {
            BinaryPrimitives.WriteInt32LittleEndian(rent, utf8.Length);
            if (BrotliEncoder.TryCompress(utf8, rent.AsSpan(4), out var written, BrotliQuality, BrotliWindow) && 4 + written < utf8.Length)
            {
                length = 4 + written;
                rent.AsSpan(0, length).CopyTo(utf8);
                return true;
            }

            length = 0;
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rent);
        }
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
            CryptographicOperations.ZeroMemory(rent.AsSpan(0, declared));
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
    /// Base64 of UTF-16 text, decoded through its ASCII bytes in place: <see cref="Convert.TryFromBase64Chars"/> is not
    /// vectorized and costs as much as AES-GCM on a 4 KiB value, while narrowing and
    /// <see cref="Base64.DecodeFromUtf8InPlace(Span{byte}, out int)"/> are. A character above U+00FF becomes '?' on the
    /// way, which is no base64: the envelope is refused as malformed.
    /// </summary>
    private static bool TryFromBase64InPlace(ReadOnlySpan<char> text, byte[] buffer, out int written)
    {
        var count = Encoding.Latin1.GetBytes(text, buffer);
        return Base64.DecodeFromUtf8InPlace(buffer.AsSpan(0, count), out written) == OperationStatus.Done;
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

using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// Turns a session id into its folder name: a short readable prefix plus a hash of the exact id. Any id is safe
/// (<c>..</c>, <c>a/b</c>, <c>CON</c>, 256 characters of any script) and ids differing only in case get different
/// names even on a case-insensitive file system, because the hash part is lower-case and covers the exact bytes.
/// </summary>
internal static class JsonSessionKey
{
    private const int PrefixLength = 16;
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    public static string For(string sessionId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(sessionId), hash);

        var name = new StringBuilder(PrefixLength + 1 + 24);
        foreach (var c in sessionId)
        {
            if (name.Length == PrefixLength)
            {
                break;
            }

            // Only ASCII letters and digits survive, lower-cased; everything else becomes '_' so the prefix can never be
            // a path element, a device name or a trailing dot.
            name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        }

        name.Append('-');

        // 120 bits of SHA-256 in base32: 24 characters, collision-free for any realistic number of sessions.
        var bits = 0;
        var buffer = 0;
        for (var i = 0; i < 15; i++)
        {
            buffer = (buffer << 8) | hash[i];
            bits += 8;
            while (bits >= 5)
            {
                name.Append(Base32[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        return name.ToString();
    }

    /// <summary>The activity-board slot of a session folder, 1 .. <paramref name="slots"/> - 1 (slot 0 is the catalog's).</summary>
    public static int SlotOf(string key, int slots) =>
        1 + (int)(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan())) % (ulong)(slots - 1));

    /// <summary>A 64-bit hash of a message id for the in-memory idempotency index (verified against the file on a hit).</summary>
    public static ulong HashOf(string messageId) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(messageId.AsSpan()));
}

using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Multichat.Persistence.Feed;

/// <summary>
/// The inbox's continuation token: for each session the inbox delivered from, the last sequence delivered, so the
/// next page starts after it (or after the read cursor, if that moved further). Base64url of a small JSON object
/// <c>{"v":1,"p":{"session":sequence,…}}</c>, written and read without reflection (trimming- and AOT-safe).
/// </summary>
internal static class InboxToken
{
    private const int Version = 1;

    public static string Encode(IReadOnlyDictionary<string, long> positions)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            json.WriteStartObject("p");
            foreach (var (sessionId, sequence) in positions.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteNumber(sessionId, sequence);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Convert.ToBase64String(buffer.WrittenSpan).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <exception cref="ArgumentException">The token was not made by <see cref="Encode"/>.</exception>
    public static Dictionary<string, long> Decode(string? token, string paramName)
    {
        var positions = new Dictionary<string, long>(StringComparer.Ordinal);
        if (token is null)
        {
            return positions;
        }

        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            var bytes = Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.GetProperty("v").GetInt32() != Version)
            {
                throw new FormatException("unknown version");
            }

            foreach (var position in root.GetProperty("p").EnumerateObject())
            {
                var sequence = position.Value.GetInt64();
                if (sequence < 0)
                {
                    throw new FormatException("negative sequence");
                }

                positions[position.Name] = sequence;
            }

            return positions;
        }
        catch (Exception e) when (e is FormatException or JsonException or KeyNotFoundException or InvalidOperationException or DecoderFallbackException)
        {
            throw new ArgumentException(
                $"{paramName} is not a continuation token of GetInboxAsync; pass the one the previous page returned, or null for the first page.", paramName, e);
        }
    }
}

using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// Turns records into the Redis layout and back (see <see cref="RedisKeys"/>). Timestamps travel as exact UTC ticks;
/// a record that does not parse is reported as <see cref="StoreCorruptedException"/>, never guessed at.
/// </summary>
internal static class RedisRecordCodec
{
    /// <summary>The fields of a session hash, in the order the scripts return them.</summary>
    public static readonly RedisValue[] SessionFields = ["p", "t", "m", "c", "u", "v", "n", "l"];

    // Non-ASCII text stays as UTF-8 (the values are never embedded in HTML), which keeps members compact.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The score of an activity time in the recency indexes: whole milliseconds since 0001-01-01 UTC, exact in a double.</summary>
    public static long Score(long utcTicks) => utcTicks / TimeSpan.TicksPerMillisecond;

    public static string Ticks(long utcTicks) => utcTicks.ToString(CultureInfo.InvariantCulture);

    public static string JoinParticipants(IReadOnlyList<string> participants) => string.Join('\n', participants);

    public static string EncodeMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.Count == 0)
        {
            return string.Empty;
        }

        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteMetadata(writer, metadata);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The JSON of a message member (<c>seq LF id LF json</c>), from its stored form; the scripts put the sequence and id in front.</summary>
    public static byte[] EncodeMessageBody(ChatMessage message)
    {
        // One writer per thread, reset for each message: encoding is synchronous, so a thread never shares it.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("s"u8, message.Sender);
        if (message.Recipient is not null)
        {
            writer.WriteString("r"u8, message.Recipient);
        }

        writer.WriteString("c"u8, message.Content);
        writer.WriteNumber("t"u8, message.Timestamp.UtcTicks);
        if (message.Metadata.Count > 0)
        {
            writer.WritePropertyName("m"u8);
            WriteMetadata(writer, message.Metadata);
        }

        writer.WriteEndObject();
        writer.Flush();
        var body = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 64 * 1024)
        {
            // Do not keep a large message's buffer alive on the thread.
            t_buffer = null;
            t_writer = null;
        }

        return body;
    }

    /// <summary>Parses a message member <c>seq LF id LF json</c>.</summary>
    public static ChatMessage DecodeMessage(string sessionId, RedisValue member)
    {
        ReadOnlyMemory<byte> memory = member;
        var span = memory.Span;
        try
        {
            var firstBreak = span.IndexOf((byte)'\n');
            var secondBreak = firstBreak < 0 ? -1 : span[(firstBreak + 1)..].IndexOf((byte)'\n');
            if (secondBreak < 0 || !Utf8Parser.TryParse(span[..firstBreak], out long sequence, out var consumed) || consumed != firstBreak)
            {
                throw Corrupted("a message", null);
            }

            var id = Encoding.UTF8.GetString(span.Slice(firstBreak + 1, secondBreak));
            var json = span[(firstBreak + secondBreak + 2)..];
            return ReadMessageBody(json, sessionId, id, sequence);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            throw Corrupted("a message", ex);
        }
    }

    /// <summary>Parses the fields <see cref="SessionFields"/> of a session hash, read from <paramref name="fields"/> at <paramref name="offset"/>.</summary>
    public static ChatSession DecodeSession(string sessionId, RedisResult[] fields, int offset)
    {
        try
        {
            var participants = (string?)fields[offset] ?? throw Corrupted("a session", null);
            var metadata = (string?)fields[offset + 2];
            return new ChatSession
            {
                SessionId = sessionId,
                Participants = participants.Length == 0 ? [] : participants.Split('\n'),
                Title = (string?)fields[offset + 1],
                Metadata = string.IsNullOrEmpty(metadata) ? EmptyMetadata.Instance : DecodeMetadata(metadata),
                CreatedAt = new DateTimeOffset(Long(fields[offset + 3]), TimeSpan.Zero),
                UpdatedAt = new DateTimeOffset(Long(fields[offset + 4]), TimeSpan.Zero),
                Version = Long(fields[offset + 5]),
                MessageCount = Long(fields[offset + 6]),
                LastSequence = Long(fields[offset + 7]),
            };
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidCastException or ArgumentException or OverflowException)
        {
            throw Corrupted("a session", ex);
        }
    }

    public static StoreCorruptedException Corrupted(string what, Exception? inner) =>
        new($"The Redis store holds {what} record that cannot be read; it was written by another program or damaged. Delete or restore the affected session.", inner);

    private static long Long(RedisResult value) =>
        long.Parse((string?)value ?? throw new FormatException("A field is missing."), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static void WriteMetadata(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> metadata)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in metadata)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    private static Dictionary<string, string> DecodeMetadata(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        return ReadMetadata(ref reader);
    }

    private static Dictionary<string, string> ReadMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Metadata is not an object.");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            metadata[key] = reader.GetString() ?? throw new JsonException("A metadata value is null.");
        }

        return metadata;
    }

    private static ChatMessage ReadMessageBody(ReadOnlySpan<byte> json, string sessionId, string id, long sequence)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A message is not an object.");
        }

        string? sender = null, recipient = null, content = null;
        long? ticks = null;
        IReadOnlyDictionary<string, string> metadata = EmptyMetadata.Instance;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("s"u8))
            {
                sender = reader.GetString();
            }
            else if (name.SequenceEqual("r"u8))
            {
                recipient = reader.GetString();
            }
            else if (name.SequenceEqual("c"u8))
            {
                content = reader.GetString();
            }
            else if (name.SequenceEqual("t"u8))
            {
                ticks = reader.GetInt64();
            }
            else if (name.SequenceEqual("m"u8))
            {
                metadata = ReadMetadata(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        if (sender is null || content is null || ticks is null)
        {
            throw new JsonException("A message lacks its sender, content or timestamp.");
        }

        return new ChatMessage
        {
            Id = id,
            SessionId = sessionId,
            Sender = sender,
            Recipient = recipient,
            Content = content,
            Timestamp = new DateTimeOffset(ticks.Value, TimeSpan.Zero),
            Sequence = sequence,
            Metadata = metadata,
        };
    }
}

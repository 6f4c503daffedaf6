using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// One line of <c>messages.jsonl</c>, written and read by hand for speed:
/// <c>{"seq":1,"id":"m-1","sender":"a","recipient":"b","content":"…","timestamp":"…","at":"…","metadata":{…},"more":true}</c>.
/// <c>at</c> is the store's time of the append (absent on imported lines); <c>more</c> marks every line of a batch but
/// its last, so a batch cut short by a crash is recognised and dropped as a whole.
/// </summary>
internal static class JsonMessageLine
{
    // Relaxed escaping keeps non-ASCII text readable in the file; control characters and quotes are still escaped.
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static void Write(Utf8JsonWriter writer, IBufferWriter<byte> buffer, ChatMessage message, DateTimeOffset? at, bool more)
    {
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteNumber("seq"u8, message.Sequence);
        writer.WriteString("id"u8, message.Id);
        writer.WriteString("sender"u8, message.Sender);
        if (message.Recipient is not null)
        {
            writer.WriteString("recipient"u8, message.Recipient);
        }

        writer.WriteString("content"u8, message.Content);
        writer.WriteString("timestamp"u8, message.Timestamp);
        if (at is { } time)
        {
            writer.WriteString("at"u8, time);
        }

        if (message.Metadata.Count > 0)
        {
            writer.WriteStartObject("metadata"u8);
            foreach (var (key, value) in message.Metadata)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        if (more)
        {
            writer.WriteBoolean("more"u8, true);
        }

        writer.WriteEndObject();
        writer.Flush();
        buffer.GetSpan(1)[0] = (byte)'\n';
        buffer.Advance(1);
    }

    /// <summary>Reads only what bookkeeping needs; false for a damaged line.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> line, out long sequence, out string? id, out DateTimeOffset? at, out bool more)
    {
        sequence = 0;
        id = null;
        at = null;
        more = false;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("seq"u8))
                {
                    reader.Read();
                    sequence = reader.GetInt64();
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = reader.GetString();
                }
                else if (reader.ValueTextEquals("at"u8))
                {
                    reader.Read();
                    at = reader.GetDateTimeOffset();
                }
                else if (reader.ValueTextEquals("more"u8))
                {
                    reader.Read();
                    more = reader.GetBoolean();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return reader.TokenType == JsonTokenType.EndObject && sequence > 0 && id is not null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Reads a whole message; false for a damaged line.</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, string sessionId, out ChatMessage? message)
    {
        message = null;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            long sequence = 0;
            string? id = null, sender = null, recipient = null, content = null;
            DateTimeOffset? timestamp = null;
            Dictionary<string, string>? metadata = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("seq"u8))
                {
                    reader.Read();
                    sequence = reader.GetInt64();
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = reader.GetString();
                }
                else if (reader.ValueTextEquals("sender"u8))
                {
                    reader.Read();
                    sender = reader.GetString();
                }
                else if (reader.ValueTextEquals("recipient"u8))
                {
                    reader.Read();
                    recipient = reader.GetString();
                }
                else if (reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    content = reader.GetString();
                }
                else if (reader.ValueTextEquals("timestamp"u8))
                {
                    reader.Read();
                    timestamp = reader.GetDateTimeOffset();
                }
                else if (reader.ValueTextEquals("metadata"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var key = reader.GetString()!;
                        reader.Read();
                        metadata[key] = reader.GetString() ?? "";
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || sequence <= 0 || id is null || sender is null || content is null || timestamp is null)
            {
                return false;
            }

            message = new ChatMessage
            {
                Id = id,
                SessionId = sessionId,
                Sender = sender,
                Recipient = recipient,
                Content = content,
                Timestamp = timestamp.Value.ToUniversalTime(),
                Sequence = sequence,
                Metadata = metadata is { Count: > 0 } ? metadata : EmptyMetadata.Instance,
            };
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }
}

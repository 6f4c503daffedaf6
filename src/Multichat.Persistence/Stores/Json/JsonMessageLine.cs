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

    /// <summary>
    /// The largest sequence the store's files may hold: 2^53 − 1, the largest integer jq (and JavaScript) reads exactly.
    /// No session gets near it (285 years at a million appends a second): a larger number was put in a file by hand or
    /// by damage, and taken as written it would make the next sequence wrap to a negative one. A line holding one is
    /// damaged, a record holding one is damaged, an id file holding one is rebuilt, and an append past it is refused.
    /// </summary>
    public const long MaxSequence = (1L << 53) - 1;

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

    /// <summary>Reads only what bookkeeping needs (no content strings are built); false for a damaged line.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> line, out long sequence, out string? id, out DateTimeOffset? at, out bool more)
    {
        var ok = TryParse(line, full: false, out var fields);
        (sequence, id, at, more) = (fields.Sequence, fields.Id, fields.At, fields.More);
        return ok;
    }

    /// <summary>Reads a whole message; false for a damaged line.</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, string sessionId, out ChatMessage? message)
    {
        message = null;
        if (!TryParse(line, full: true, out var fields) || fields.Sender is null || fields.Content is null || fields.Timestamp is null)
        {
            return false;
        }

        message = new ChatMessage
        {
            Id = fields.Id!,
            SessionId = sessionId,
            Sender = fields.Sender,
            Recipient = fields.Recipient,
            Content = fields.Content,
            Timestamp = fields.Timestamp.Value.ToUniversalTime(),
            Sequence = fields.Sequence,
            Metadata = fields.Metadata is { Count: > 0 } metadata ? metadata : EmptyMetadata.Instance,
        };
        return true;
    }

    /// <summary>
    /// One pass over a line's properties: <paramref name="full"/> reads the message's fields, otherwise only the bookkeeping
    /// ones (sequence, id, append time, batch mark), so neither pays for what it does not use.
    /// </summary>
    private static bool TryParse(ReadOnlySpan<byte> line, bool full, out Fields fields)
    {
        fields = default;
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
                    fields.Sequence = reader.GetInt64();
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    fields.Id = reader.GetString();
                }
                else if (reader.ValueTextEquals("at"u8))
                {
                    // Read in both modes: a line is damaged for every reader or for none, else a line readers serve
                    // could be one the id lookup steps over, and a retry of its message would be stored again.
                    reader.Read();
                    fields.At = reader.GetDateTimeOffset();
                }
                else if (reader.ValueTextEquals("more"u8))
                {
                    reader.Read();
                    fields.More = reader.GetBoolean();
                }
                else if (full && reader.ValueTextEquals("sender"u8))
                {
                    reader.Read();
                    fields.Sender = reader.GetString();
                }
                else if (full && reader.ValueTextEquals("recipient"u8))
                {
                    reader.Read();
                    fields.Recipient = reader.GetString();
                }
                else if (full && reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    fields.Content = reader.GetString();
                }
                else if (full && reader.ValueTextEquals("timestamp"u8))
                {
                    reader.Read();
                    fields.Timestamp = reader.GetDateTimeOffset();
                }
                else if (full && reader.ValueTextEquals("metadata"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    fields.Metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var key = reader.GetString()!;
                        reader.Read();
                        fields.Metadata[key] = reader.GetString() ?? "";
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return reader.TokenType == JsonTokenType.EndObject && fields.Sequence is > 0 and <= MaxSequence && fields.Id is not null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    private struct Fields
    {
        public long Sequence;
        public string? Id;
        public DateTimeOffset? At;
        public bool More;
        public string? Sender;
        public string? Recipient;
        public string? Content;
        public DateTimeOffset? Timestamp;
        public Dictionary<string, string>? Metadata;
    }
}

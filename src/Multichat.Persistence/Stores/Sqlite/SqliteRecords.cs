using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Converts between rows and records: timestamps as UTC ticks, metadata and participants as JSON text.</summary>
internal static class SqliteRecords
{
    // Relaxed escaping keeps non-ASCII text readable in `sqlite3`; the values never reach HTML from here.
    private static readonly SqliteJsonContext Json = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static ChatSession ReadSession(SqliteDataReader reader) => new()
    {
        SessionId = reader.GetString(0),
        Participants = JsonSerializer.Deserialize(reader.GetString(1), Json.StringArray) ?? [],
        Title = reader.IsDBNull(2) ? null : reader.GetString(2),
        Metadata = ReadMetadata(reader, 3),
        CreatedAt = FromTicks(reader.GetInt64(4)),
        UpdatedAt = FromTicks(reader.GetInt64(5)),
        Version = reader.GetInt64(6),
        LastSequence = reader.GetInt64(7),
        MessageCount = reader.GetInt64(8),
    };

    public static ChatMessage ReadMessage(SqliteDataReader reader, string sessionId) => new()
    {
        SessionId = sessionId,
        Sequence = reader.GetInt64(0),
        Id = reader.GetString(1),
        Sender = reader.GetString(2),
        Recipient = reader.IsDBNull(3) ? null : reader.GetString(3),
        Content = reader.GetString(4),
        Timestamp = FromTicks(reader.GetInt64(5)),
        Metadata = ReadMetadata(reader, 6),
    };

    /// <summary>A stored time; a value outside the calendar (a damaged row) is reported as damage, not as a caller's mistake.</summary>
    public static DateTimeOffset FromTicks(long utcTicks) =>
        utcTicks is >= 0 and <= 3_155_378_975_999_999_999 // DateTimeOffset.MaxValue.UtcTicks
            ? new(utcTicks, TimeSpan.Zero)
            : throw new FormatException($"A stored time holds {utcTicks}, which is not a UTC tick count.");

    public static object Participants(IReadOnlyList<string> participants) =>
        JsonSerializer.Serialize(participants, Json.IReadOnlyListString);

    /// <summary>The column value of metadata: NULL when empty, so the common case stores and parses nothing.</summary>
    public static object Metadata(IReadOnlyDictionary<string, string> metadata) => MetadataText(metadata) ?? (object)DBNull.Value;

    /// <inheritdoc cref="Metadata"/>
    public static string? MetadataText(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Count == 0 ? null : JsonSerializer.Serialize(metadata, Json.IReadOnlyDictionaryStringString);

    public static object Nullable(string? value) => value is null ? DBNull.Value : value;

    private static IReadOnlyDictionary<string, string> ReadMetadata(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? EmptyMetadata.Instance
            : JsonSerializer.Deserialize(reader.GetString(ordinal), Json.DictionaryStringString) ?? EmptyMetadata.Instance;
}

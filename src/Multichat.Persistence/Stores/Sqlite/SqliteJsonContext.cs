using System.Text.Json.Serialization;

namespace Multichat.Persistence.Stores.Sqlite;

/// <summary>Source-generated JSON for the metadata and participant columns (no reflection, trimming-safe).</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;

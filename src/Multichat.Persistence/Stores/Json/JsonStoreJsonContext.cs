using System.Text.Json.Serialization;

namespace Multichat.Persistence.Stores.Json;

/// <summary>Source-generated JSON for the Json store's small files (the message lines are written by hand, for speed).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(JsonSessionDocument))]
[JsonSerializable(typeof(JsonFormatDocument))]
[JsonSerializable(typeof(JsonReadsDocument))]
internal sealed partial class JsonStoreJsonContext : JsonSerializerContext;

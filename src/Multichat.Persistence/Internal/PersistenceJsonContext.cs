using System.Text.Json.Serialization;
using Multichat.Persistence.Backup;

namespace Multichat.Persistence.Internal;

/// <summary>Source-generated JSON for the records the library writes (archives, and stores that write JSON).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatSession))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ArchiveLine))]
internal sealed partial class PersistenceJsonContext : JsonSerializerContext;

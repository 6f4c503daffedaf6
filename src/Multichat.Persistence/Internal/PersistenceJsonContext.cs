using System.Text.Json.Serialization;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Internal;

/// <summary>Source-generated JSON for the records the library writes (archives, and stores that write JSON).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatSession))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ArchiveLine))]
[JsonSerializable(typeof(Dictionary<string, MaintenanceTaskState>))]
internal sealed partial class PersistenceJsonContext : JsonSerializerContext;

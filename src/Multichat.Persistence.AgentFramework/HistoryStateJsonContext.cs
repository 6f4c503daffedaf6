using System.Text.Json.Serialization;

namespace Multichat.Persistence.AgentFramework;

/// <summary>Source-generated serialization of <see cref="HistoryState"/>: no reflection, so trimming and AOT keep working.</summary>
[JsonSerializable(typeof(HistoryState))]
internal sealed partial class HistoryStateJsonContext : JsonSerializerContext;

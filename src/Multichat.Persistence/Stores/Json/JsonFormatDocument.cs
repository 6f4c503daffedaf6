namespace Multichat.Persistence.Stores.Json;

/// <summary>The content of <c>format.json</c> at the store's root.</summary>
internal sealed class JsonFormatDocument
{
    public const string Name = "multichat-json";

    public const int CurrentVersion = 1;

    public string? Format { get; set; }

    public int Version { get; set; }
}

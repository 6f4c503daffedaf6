namespace Multichat.Persistence.Backup;

/// <summary>The first line of a <c>.mcbak</c> archive.</summary>
internal sealed record ArchiveHeader
{
    public const string FormatName = "multichat-backup";
    public const int CurrentVersion = 1;

    public required string Format { get; init; }

    public required int Version { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public string? SourceStore { get; init; }
}

namespace Multichat.Persistence.Backup;

/// <summary>The first line of a <c>.mcbak</c> archive.</summary>
internal sealed record ArchiveHeader
{
    public const string FormatName = "multichat-backup";
    /// <summary>2 adds the trailer's SHA-256; 1 archives are still read.</summary>
    public const int CurrentVersion = 2;

    public required string Format { get; init; }

    public required int Version { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public string? SourceStore { get; init; }
}

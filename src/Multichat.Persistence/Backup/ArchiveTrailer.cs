namespace Multichat.Persistence.Backup;

/// <summary>
/// The last line of a <c>.mcbak</c> archive. Its absence tells a reader the archive was cut short, even when the
/// cut fell exactly between two lines; its counts tell it nothing in between went missing.
/// </summary>
internal sealed record ArchiveTrailer
{
    public required long Sessions { get; init; }

    public required long Messages { get; init; }
}

namespace Multichat.Persistence.Backup;

/// <summary>
/// The last line of a <c>.mcbak</c> archive. Its absence tells a reader the archive was cut short, even when the
/// cut fell exactly between two lines; its counts tell it nothing in between went missing; its SHA-256 (format 2)
/// tells it no line was changed, also by someone who decompressed, edited and recompressed the file (which gzip's own
/// CRC cannot tell).
/// </summary>
internal sealed record ArchiveTrailer
{
    public required long Sessions { get; init; }

    public required long Messages { get; init; }

    /// <summary>Lowercase hex SHA-256 of every line before this one, each with its newline, as written (UTF-8).</summary>
    public string? Sha256 { get; init; }
}

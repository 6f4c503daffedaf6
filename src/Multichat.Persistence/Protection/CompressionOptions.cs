namespace Multichat.Persistence;

/// <summary>
/// Compression at rest (option group <c>Compression</c>): Brotli for message content, metadata values and titles of
/// at least <see cref="MinSize"/> UTF-8 bytes, applied before encryption, kept only where it makes the value smaller,
/// and transparent to callers. Works with or without encryption.
/// </summary>
public sealed class CompressionOptions
{
    /// <summary>The default of <see cref="MinSize"/>: 1 KiB.</summary>
    public const int DefaultMinSize = 1024;

    /// <summary>Whether values are compressed. Default <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>The smallest value, in UTF-8 bytes, that is compressed; shorter ones are stored as they are (Brotli
    /// rarely wins on them). Default 1,024; 16 to 16,777,216.</summary>
    public int MinSize { get; set; } = DefaultMinSize;
}

namespace Multichat.Persistence;

/// <summary>What a verified <c>.mcbak</c> archive holds (see <see cref="SessionPersistence.VerifyBackupAsync(string, CancellationToken)"/>).</summary>
/// <param name="Sessions">Sessions in the archive.</param>
/// <param name="Messages">Messages in the archive.</param>
/// <param name="SourceStore">The store kind it was written from ("json", "sqlite", "redis", "memory", …), if recorded.</param>
/// <param name="CreatedAt">When it was written.</param>
/// <param name="FormatVersion">The archive format version (1 has no checksum; 2 adds a SHA-256 of its content).</param>
public sealed record BackupInfo(long Sessions, long Messages, string? SourceStore, DateTimeOffset CreatedAt, int FormatVersion);

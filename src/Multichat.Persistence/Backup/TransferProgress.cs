namespace Multichat.Persistence;

/// <summary>How far a backup, restore, export, import or cleanup got, for a progress bar.</summary>
/// <param name="SessionsDone">Sessions finished so far.</param>
/// <param name="SessionsTotal">Sessions in all, when known before the end.</param>
/// <param name="MessagesDone">Messages finished so far.</param>
/// <param name="MessagesTotal">Messages in all, when known before the end.</param>
/// <param name="Bytes">Archive bytes read or written so far (0 when no archive is involved).</param>
public sealed record TransferProgress(long SessionsDone, long? SessionsTotal, long MessagesDone, long? MessagesTotal, long Bytes);

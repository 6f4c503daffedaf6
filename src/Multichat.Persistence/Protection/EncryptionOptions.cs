namespace Multichat.Persistence;

/// <summary>
/// Encryption at rest (option group <c>Encryption</c>): AES-256-GCM over message content, message metadata values,
/// session titles and session metadata values. Ids, participants, senders, recipients, sequences and timestamps stay
/// plain, because the stores index them. On when <see cref="CurrentKeyId"/> is set, or when an
/// <see cref="IEncryptionKeyProvider"/> is registered (or set as <see cref="KeyProvider"/>).
/// </summary>
public sealed class EncryptionOptions
{
    /// <summary>The id of the key new values are encrypted with; it must be one of <see cref="Keys"/>. Configuration key
    /// <c>Encryption:CurrentKeyId</c>.</summary>
    public string? CurrentKeyId { get; set; }

    /// <summary>Every key that may decrypt, by id: the base64 of 32 random bytes each (for example
    /// <c>openssl rand -base64 32</c>). Configuration keys <c>Encryption:Keys:{id}</c>. Keep a retired key listed until
    /// <see cref="SessionPersistence.ReencryptAsync(IProgress{TransferProgress}?, CancellationToken)"/> has moved every value to the current key (its report says
    /// <see cref="ReencryptionReport.IsComplete"/>).</summary>
    public IDictionary<string, string> Keys { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>A key source in code (for example a vault client), used instead of <see cref="CurrentKeyId"/> and
    /// <see cref="Keys"/>. <c>AddSessionPersistence</c> sets it from an <see cref="IEncryptionKeyProvider"/> registered in
    /// the container. Not bound from configuration.</summary>
    public IEncryptionKeyProvider? KeyProvider { get; set; }

    /// <summary>Whether values are encrypted.</summary>
    internal bool IsEnabled => KeyProvider is not null || !string.IsNullOrEmpty(CurrentKeyId);
}

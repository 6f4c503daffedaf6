namespace Multichat.Persistence;

/// <summary>
/// Supplies the key ring from somewhere other than configuration (a vault, a KMS, a secrets file). Register it in DI
/// (<c>services.AddSingleton&lt;IEncryptionKeyProvider, MyVaultKeys&gt;()</c>) or set
/// <see cref="EncryptionOptions.KeyProvider"/>.
/// </summary>
/// <remarks>
/// It is asked for the ring on every store operation that encrypts or decrypts, so it should return a cached ring
/// (a completed <see cref="ValueTask{TResult}"/>) and refresh it in the background; returning a new ring instance
/// for every call works but forgoes the ring's per-key cipher cache.
/// </remarks>
public interface IEncryptionKeyProvider
{
    /// <summary>The ring to encrypt and decrypt with now.</summary>
    ValueTask<EncryptionKeyRing> GetKeyRingAsync(CancellationToken cancellationToken);
}

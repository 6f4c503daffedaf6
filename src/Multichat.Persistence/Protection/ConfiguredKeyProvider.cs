namespace Multichat.Persistence.Protection;

/// <summary>The key ring the options' <c>Encryption:CurrentKeyId</c> and <c>Encryption:Keys</c> describe, built once
/// (the validator has checked them) and zeroed when the pipeline is disposed.</summary>
internal sealed class ConfiguredKeyProvider(EncryptionOptions options) : IEncryptionKeyProvider, IDisposable
{
    private readonly Lazy<EncryptionKeyRing> _ring = new(() => new EncryptionKeyRing(
        options.CurrentKeyId!, options.Keys.Select(k => KeyValuePair.Create(k.Key, Convert.FromBase64String(k.Value.Trim())))));

    public ValueTask<EncryptionKeyRing> GetKeyRingAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_ring.Value);

    public void Dispose()
    {
        if (_ring.IsValueCreated)
        {
            _ring.Value.Dispose();
        }
    }
}

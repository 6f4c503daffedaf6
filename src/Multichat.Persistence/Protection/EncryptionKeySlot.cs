using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Multichat.Persistence.Protection;

/// <summary>One key: its bytes, its id as UTF-8 (for envelopes) and a pool of ciphers.</summary>
internal sealed class EncryptionKeySlot : IDisposable
{
    private readonly byte[] _key;
    private readonly ConcurrentBag<AesGcm> _pool = [];

    public EncryptionKeySlot(string id, byte[] key)
    {
        Id = id;
        IdBytes = System.Text.Encoding.ASCII.GetBytes(id);
        _key = (byte[])key.Clone();
    }

    public string Id { get; }

    public byte[] IdBytes { get; }

    public AesGcm Rent() => _pool.TryTake(out var cipher) ? cipher : new AesGcm(_key, ValueEnvelope.TagSize);

    public void Return(AesGcm cipher)
    {
        // A bounded pool: as many ciphers as threads that ever worked at once, at most 64.
        if (_pool.Count < 64)
        {
            _pool.Add(cipher);
        }
        else
        {
            cipher.Dispose();
        }
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        while (_pool.TryTake(out var cipher))
        {
            cipher.Dispose();
        }
    }
}

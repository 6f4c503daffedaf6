using System.Security.Cryptography;

namespace Multichat.Persistence.Protection;

/// <summary>One key: its bytes, its id as ASCII (for envelopes) and a small pool of ciphers.</summary>
/// <remarks>
/// The pool is a fixed array of cells taken and given back with one interlocked exchange each (a few nanoseconds,
/// against about 50 for a <see cref="System.Collections.Concurrent.ConcurrentBag{T}"/> and a microsecond for a new
/// <see cref="AesGcm"/>). A thread starts looking at the cell its id points to, so threads working at once rarely meet.
/// </remarks>
internal sealed class EncryptionKeySlot : IDisposable
{
    private readonly byte[] _key;
    private readonly AesGcm?[] _pool = new AesGcm?[Math.Clamp(Environment.ProcessorCount * 2, 4, 64)];
    private int _disposed;

    public EncryptionKeySlot(string id, byte[] key)
    {
        Id = id;
        IdBytes = System.Text.Encoding.ASCII.GetBytes(id);
        _key = (byte[])key.Clone();
    }

    public string Id { get; }

    public byte[] IdBytes { get; }

    public AesGcm Rent()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var start = Environment.CurrentManagedThreadId % _pool.Length;
        for (var i = 0; i < _pool.Length; i++)
        {
            var cipher = Interlocked.Exchange(ref _pool[(start + i) % _pool.Length], null);
            if (cipher is not null)
            {
                return cipher;
            }
        }

        return new AesGcm(_key, ValueEnvelope.TagSize);
    }

    public void Return(AesGcm cipher)
    {
        var start = Environment.CurrentManagedThreadId % _pool.Length;
        for (var i = 0; i < _pool.Length; i++)
        {
            ref var cell = ref _pool[(start + i) % _pool.Length];
            if (Interlocked.CompareExchange(ref cell, cipher, null) is null)
            {
                // A cipher given back while the key was being disposed would outlive it: take it out again.
                if (Volatile.Read(ref _disposed) != 0)
                {
                    Interlocked.Exchange(ref cell, null)?.Dispose();
                }

                return;
            }
        }

        cipher.Dispose();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        CryptographicOperations.ZeroMemory(_key);
        for (var i = 0; i < _pool.Length; i++)
        {
            Interlocked.Exchange(ref _pool[i], null)?.Dispose();
        }
    }
}

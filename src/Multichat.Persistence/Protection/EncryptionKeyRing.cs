using System.Security.Cryptography;
using Multichat.Persistence.Protection;

namespace Multichat.Persistence;

/// <summary>
/// The keys that may decrypt, by id, and the one that encrypts (<see cref="CurrentKeyId"/>). Rotating a key is adding
/// a new one and making it current: values written under the old key stay readable while it is listed, and
/// <see cref="SessionPersistence.ReencryptAsync(IProgress{TransferProgress}?, CancellationToken)"/> moves them to the
/// current one so the old key can be dropped.
/// </summary>
/// <remarks>
/// The ring copies the key bytes it is given and zeroes its copies when disposed. It keeps a small pool of
/// <see cref="AesGcm"/> instances per key, because an <see cref="AesGcm"/> instance must not be used by two threads at
/// once on Linux and macOS, and creating one per value would cost more than the encryption itself.
/// </remarks>
public sealed class EncryptionKeyRing : IDisposable
{
    /// <summary>The size of every key: 32 bytes (AES-256).</summary>
    public const int KeySize = 32;

    /// <summary>The longest key id, in characters.</summary>
    public const int MaxKeyIdLength = 64;

    private readonly Dictionary<string, EncryptionKeySlot> _keys = new(StringComparer.Ordinal);
    private readonly EncryptionKeySlot _current;
    private int _disposed;

    /// <summary>Creates a ring.</summary>
    /// <param name="currentKeyId">The id of the key that encrypts; it must be among <paramref name="keys"/>.</param>
    /// <param name="keys">Every key that may decrypt, by id: 32 bytes each. Ids are 1 to 64 characters of ASCII letters,
    /// digits, <c>-</c>, <c>_</c> and <c>.</c>.</param>
    /// <exception cref="ArgumentException">A key id is malformed, a key is not 32 bytes, or the current key is missing.
    /// The message names the key id, never the key.</exception>
    public EncryptionKeyRing(string currentKeyId, IEnumerable<KeyValuePair<string, byte[]>> keys)
    {
        ArgumentNullException.ThrowIfNull(currentKeyId);
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (id, key) in keys)
        {
            if (!IsValidKeyId(id))
            {
                throw new ArgumentException(
                    $"Key id '{Printable(id)}' is not valid; use 1 to {MaxKeyIdLength} ASCII letters, digits, '-', '_' or '.'.", nameof(keys));
            }

            if (key is null || key.Length != KeySize)
            {
                throw new ArgumentException($"Key '{id}' has {key?.Length ?? 0} bytes; AES-256 takes exactly {KeySize}.", nameof(keys));
            }

            if (!_keys.TryAdd(id, new EncryptionKeySlot(id, key)))
            {
                throw new ArgumentException($"Key id '{id}' is listed twice.", nameof(keys));
            }
        }

        _current = _keys.GetValueOrDefault(currentKeyId)
            ?? throw new ArgumentException($"The current key id '{Printable(currentKeyId)}' is not among the ring's keys.", nameof(currentKeyId));
        CurrentKeyId = currentKeyId;
    }

    /// <summary>The id of the key new values are encrypted with.</summary>
    public string CurrentKeyId { get; }

    /// <summary>The ids of every key that may decrypt.</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <summary>Whether <paramref name="keyId"/> is a well-formed key id.</summary>
    public static bool IsValidKeyId(string? keyId)
    {
        if (string.IsNullOrEmpty(keyId) || keyId.Length > MaxKeyIdLength)
        {
            return false;
        }

        foreach (var c in keyId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Zeroes the ring's copies of the keys and releases its ciphers.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var slot in _keys.Values)
        {
            slot.Dispose();
        }
    }

    internal EncryptionKeySlot Current
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _current;
        }
    }

    /// <summary>The key an envelope names by its ASCII id, found without making a string of it (a ring holds a few
    /// keys, and the current one is the likely match).</summary>
    internal EncryptionKeySlot? Slot(ReadOnlySpan<byte> keyId)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (keyId.SequenceEqual(_current.IdBytes))
        {
            return _current;
        }

        foreach (var slot in _keys.Values)
        {
            if (keyId.SequenceEqual(slot.IdBytes))
            {
                return slot;
            }
        }

        return null;
    }

    private static string Printable(string? id) =>
        id is null ? "" : id.Length > MaxKeyIdLength ? id[..MaxKeyIdLength] + "…" : id;
}

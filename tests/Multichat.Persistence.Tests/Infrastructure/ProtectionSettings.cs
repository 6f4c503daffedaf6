namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>The protection layers as the test variants switch them on: fixed test keys, compression from 16 bytes up
/// (the smallest MinSize allowed) so the suite's short values go through Brotli too.</summary>
public static class ProtectionSettings
{
    public const string KeyA = "key-a";
    public const string KeyB = "key-b";

    public static readonly string KeyABase64 = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    public static readonly string KeyBBase64 = Convert.ToBase64String(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    public static void Encrypt(SessionPersistenceOptions options, string currentKeyId = KeyA)
    {
        options.Encryption.Keys[KeyA] = KeyABase64;
        options.Encryption.Keys[KeyB] = KeyBBase64;
        options.Encryption.CurrentKeyId = currentKeyId;
    }

    public static void Compress(SessionPersistenceOptions options)
    {
        options.Compression.Enabled = true;
        options.Compression.MinSize = 16;
    }
}

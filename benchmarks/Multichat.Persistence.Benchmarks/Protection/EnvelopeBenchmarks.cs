using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Multichat.Persistence.Protection;

namespace Multichat.Persistence.Benchmarks.Protection;

/// <summary>The envelope codec alone, and the primitives it is made of, so the cost of encryption per value can be
/// taken apart: random nonce, AES-GCM, base64.</summary>
[MemoryDiagnoser]
public class EnvelopeBenchmarks
{
    private static readonly ValueLocation Where = ValueLocation.Content("session-1", "message-1");
    private EncryptionKeyRing _ring = null!;
    private AesGcm _aes = null!;
    private string _plain = null!;
    private string _sealed = null!;
    private byte[] _bytes = null!;
    private byte[] _cipher = null!;
    private string _base64 = null!;
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _tag = new byte[16];

    [Params(200, 4096)]
    public int ContentSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        _ring = new EncryptionKeyRing("k", [new("k", key)]);
        _aes = new AesGcm(key, 16);
        _plain = ProtectionText.Content(ContentSize);
        _sealed = ValueEnvelope.Seal(_plain, Where, _ring, 0);
        _bytes = System.Text.Encoding.UTF8.GetBytes(_plain);
        _cipher = new byte[_bytes.Length];
        _base64 = Convert.ToBase64String(_bytes);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ring.Dispose();
        _aes.Dispose();
    }

    [Benchmark(Description = "Seal")]
    public string Seal() => ValueEnvelope.Seal(_plain, Where, _ring, 0);

    [Benchmark(Description = "Open")]
    public string Open() => ValueEnvelope.Open(_sealed, Where, _ring, int.MaxValue);

    [Benchmark(Description = "RandomNumberGenerator.Fill(12)")]
    public void Nonce() => RandomNumberGenerator.Fill(_nonce);

    [Benchmark(Description = "AesGcm.Encrypt")]
    public void Encrypt() => _aes.Encrypt(_nonce, _bytes, _cipher, _tag);

    [Benchmark(Description = "Convert.ToBase64String")]
    public string ToBase64() => Convert.ToBase64String(_bytes);

    [Benchmark(Description = "Convert.FromBase64String")]
    public byte[] FromBase64() => Convert.FromBase64String(_base64);
}

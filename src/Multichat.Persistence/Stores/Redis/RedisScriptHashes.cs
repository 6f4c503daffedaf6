using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The SHA-1 of each script the store runs, computed once per script constant. Keyed by reference: the scripts are
/// string constants (interned), so the lookup hashes a pointer rather than kilobytes of script text on every call.
/// </summary>
internal static class RedisScriptHashes
{
    private static readonly ConcurrentDictionary<string, byte[]> Hashes = new(ReferenceEqualityComparer.Instance);

    // SHA-1 is what Redis names scripts by (EVALSHA); it identifies, it protects nothing.
#pragma warning disable CA5350
    public static byte[] Of(string script) => Hashes.GetOrAdd(script, static text => SHA1.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Multichat.Persistence.Caching;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Protection;

namespace Multichat.Persistence.Pipeline;

/// <summary>
/// The one place the store pipeline is composed from the options:
/// <c>validation + limits → telemetry → cache (when on) → protection → store</c>. The facade and DI's
/// <see cref="ISessionStore"/> both get this chain, so every way in gets the same checks, limits and telemetry.
/// A new cross-cutting feature is one more <see cref="DelegatingSessionStore"/> added here; no store changes.
/// </summary>
internal static class SessionStorePipeline
{
    /// <summary>Validates <paramref name="options"/>, opens the store they name and composes the layers around it.</summary>
    /// <exception cref="OptionsValidationException">An option is out of range; the message names it.</exception>
    public static ISessionStore Open(SessionPersistenceOptions options, ILoggerFactory loggerFactory)
    {
        ThrowIfInvalid(options);
        return Compose(StoreFactory.Create(options, loggerFactory), options, loggerFactory);
    }

    /// <summary>
    /// Composes the layers around a store. A store that is already a composed chain is unwrapped to the store
    /// itself first, so a facade with other limits over the same store never stacks two chains.
    /// </summary>
    /// <exception cref="OptionsValidationException">An option is out of range; the message names it.</exception>
    public static ISessionStore Compose(ISessionStore store, SessionPersistenceOptions options, ILoggerFactory loggerFactory)
    {
        ThrowIfInvalid(options);
        ISessionStore chain = Unwrap(store);
        chain = Protection(chain, options);
        chain = Cache(chain, store, options);
        chain = new TelemetrySessionStore(chain, options.TimeProvider, loggerFactory.CreateLogger<SessionPersistence>());
        chain = new ValidatingSessionStore(chain, options);
        return chain;
    }

    /// <summary>
    /// The chain below the protection layer: values in their stored form (sealed), which is what backups and exports
    /// carry, so an archive of an encrypted store holds no plain text and migrates without re-encryption.
    /// </summary>
    public static ISessionStore StoredForm(ISessionStore chain)
    {
        for (var store = chain; store is DelegatingSessionStore layer; store = layer.Inner)
        {
            if (layer is ProtectingSessionStore protection)
            {
                return protection.Inner;
            }
        }

        return chain;
    }

    /// <summary>The protection layer of a composed chain, if any.</summary>
    public static ProtectingSessionStore? ProtectionOf(ISessionStore chain) => Layers(chain).OfType<ProtectingSessionStore>().FirstOrDefault();

    /// <summary>Every store of a chain, outermost first, ending with the store itself.</summary>
    public static IEnumerable<ISessionStore> Layers(ISessionStore chain)
    {
        var store = chain;
        for (; store is DelegatingSessionStore layer; store = layer.Inner)
        {
            yield return layer;
        }

        yield return store;
    }

    /// <summary>Always in the chain (see <see cref="ProtectingSessionStore"/>); it encrypts when a key ring is configured
    /// and compresses when compression is on.</summary>
    private static ProtectingSessionStore Protection(ISessionStore store, SessionPersistenceOptions options)
    {
        var keys = options.Encryption.KeyProvider ?? (options.Encryption.IsEnabled ? new ConfiguredKeyProvider(options.Encryption) : null);
        var compressAtLeast = options.Compression.Enabled ? options.Compression.MinSize : 0;

        // UTF-8 takes at most 3 bytes per UTF-16 character: the bound a compressed envelope's declared size must keep.
        var maxPlainBytes = 3 * Math.Max(Math.Max(options.MaxContentLength, options.MaxMetadataValueLength), InputValidator.MaxTitleLength);
        return new ProtectingSessionStore(store, keys, compressAtLeast, maxPlainBytes, ownsKeys: options.Encryption.KeyProvider is null);
    }

    /// <summary>The read cache, above protection so it keeps plain values (a hit decrypts nothing), when it is on.</summary>
    /// <exception cref="InvalidOperationException">The cache is on over a store that cannot report session heads (a store
    /// of the application's own): without the per-read head check it could serve stale reads.</exception>
    private static ISessionStore Cache(ISessionStore chain, ISessionStore store, SessionPersistenceOptions options)
    {
        if (!options.Cache.Enabled)
        {
            return chain;
        }

        return Unwrap(store) is ISessionHeadSource heads
            ? new CachingSessionStore(chain, heads, options.Cache, options.TimeProvider)
            : throw new InvalidOperationException(
                $"Cache:Enabled is true, but the store '{Unwrap(store).Name}' cannot report session heads, which the cache checks on every read; turn the cache off for this store.");
    }

    /// <summary>Whether <paramref name="store"/> is a chain composed here (its outermost layer is the validation layer).</summary>
    public static bool IsComposed(ISessionStore store) => store is ValidatingSessionStore;

    /// <summary>The store at the end of a chain (or <paramref name="store"/> itself when it is no layer).</summary>
    public static ISessionStore Unwrap(ISessionStore store)
    {
        while (store is DelegatingSessionStore layer)
        {
            store = layer.Inner;
        }

        return store;
    }

    private static void ThrowIfInvalid(SessionPersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new SessionPersistenceOptionsValidator().Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SessionPersistenceOptions), result.Failures);
        }
    }
}

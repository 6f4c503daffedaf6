using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Multichat.Persistence.Pipeline;

/// <summary>
/// The one place the store pipeline is composed from the options:
/// <c>validation + limits → telemetry → (cache → protection, as they land) → store</c>. The facade and DI's
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
        chain = new TelemetrySessionStore(chain, options.TimeProvider, loggerFactory.CreateLogger<SessionPersistence>());
        chain = new ValidatingSessionStore(chain, options);
        return chain;
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

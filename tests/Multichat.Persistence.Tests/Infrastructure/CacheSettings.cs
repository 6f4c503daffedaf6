namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>The read cache as the conformance variants turn it on: a window of 8 messages, so the suite's longer
/// histories and older pages cross from cached answers to the store's and back.</summary>
public static class CacheSettings
{
    public const int Window = 8;

    public static void Cache(SessionPersistenceOptions options)
    {
        options.Cache.Enabled = true;
        options.Cache.MessagesPerSession = Window;
    }
}

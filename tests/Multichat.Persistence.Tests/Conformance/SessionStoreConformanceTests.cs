using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>
/// The one suite every store passes (DESIGN §4): a store's test class derives from it and says only how to point
/// options at fresh storage. Each test gets its own storage; <see cref="OpenAsync"/> with the same storage opens a
/// second instance over it, the way a second process or machine would.
/// </summary>
public abstract partial class SessionStoreConformanceTests : IAsyncLifetime
{
    private readonly List<SessionPersistence> _opened = [];
    private readonly List<ServiceProvider> _providers = [];

    protected SessionStoreConformanceTests()
    {
        StorageKey = "t" + Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>Identifies this test's private storage (a folder name, a key prefix …).</summary>
    protected string StorageKey { get; }

    /// <summary>The clock every instance of this test uses; advances 1 ms on every read so activity order is strict.</summary>
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };

    /// <summary>Whether a second instance over the same storage sees the first one's data (false for Memory).</summary>
    protected virtual bool SharesStorageAcrossInstances => true;

    /// <summary>
    /// Whether instances come from <c>AddSessionPersistence</c> (the facade DI hands out, over DI's composed
    /// <see cref="ISessionStore"/>) instead of <see cref="SessionPersistence.Create"/>; both compose the same pipeline.
    /// </summary>
    protected virtual bool OpenThroughDependencyInjection => false;

    /// <summary>The first instance over this test's storage.</summary>
    protected SessionPersistence Store { get; private set; } = null!;

    /// <summary>Points <paramref name="options"/> at the storage named <paramref name="storageKey"/>.</summary>
    protected abstract void ConfigureStorage(SessionPersistenceOptions options, string storageKey);

    /// <summary>Turns on optional layers (encryption, compression) for every instance the test opens; none by default.</summary>
    protected virtual void ConfigureLayers(SessionPersistenceOptions options)
    {
    }

    /// <summary>Where every instance the test opens logs, unless the test passes its own; none by default.</summary>
    protected virtual ILoggerFactory? Logs => null;

    /// <summary>Removes the storage named <paramref name="storageKey"/> after the test.</summary>
    protected virtual ValueTask DeleteStorageAsync(string storageKey) => ValueTask.CompletedTask;

    public virtual async ValueTask InitializeAsync() => Store = await OpenAsync();

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await DeleteStorageAsync(StorageKey);
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens an instance over this test's storage (another one each call), with optional option changes.</summary>
    protected Task<SessionPersistence> OpenAsync(Action<SessionPersistenceOptions>? configure = null) => OpenAsync(configure, logs: null);

    /// <summary>Opens an instance over this test's storage that logs into <paramref name="logs"/>.</summary>
    protected Task<SessionPersistence> OpenAsync(Action<SessionPersistenceOptions>? configure, ILoggerFactory? logs)
    {
        logs ??= Logs;
        var options = new SessionPersistenceOptions { TimeProvider = Clock };
        ConfigureStorage(options, StorageKey);
        ConfigureLayers(options);
        configure?.Invoke(options);
        if (OpenThroughDependencyInjection)
        {
            var services = new ServiceCollection();
            if (logs is not null)
            {
                services.AddSingleton(logs);
            }

            var provider = services.AddSessionPersistence(o => Copy(options, o)).BuildServiceProvider();
            _providers.Add(provider);
            return Task.FromResult(provider.GetRequiredService<SessionPersistence>());
        }

        var persistence = SessionPersistence.Create(options, logs);
        _opened.Add(persistence);
        return Task.FromResult(persistence);
    }

    /// <summary>A Memory store with this test's layers (the same keys), as a migration source or target.</summary>
    protected SessionPersistence OpenOtherMemoryStore()
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory };
        ConfigureLayers(options);
        return SessionPersistence.Create(options);
    }

    /// <summary>A facade with other limits over the same store instance as <see cref="Store"/>.</summary>
    protected SessionPersistence WithOptions(Action<SessionPersistenceOptions> configure)
    {
        var options = new SessionPersistenceOptions { TimeProvider = Clock };
        ConfigureLayers(options);
        configure(options);
        return new SessionPersistence(Store.Store, options, ownsStore: false);
    }

    private static void Copy(SessionPersistenceOptions from, SessionPersistenceOptions to)
    {
        foreach (var property in typeof(SessionPersistenceOptions).GetProperties().Where(p => p.CanWrite))
        {
            property.SetValue(to, property.GetValue(from));
        }
    }

    protected void RequireSharedStorage()
    {
        Assert.SkipUnless(SharesStorageAcrossInstances, "This store keeps no storage shared between instances.");
    }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected static ChatMessage Message(string sessionId, string id, string sender = "Agent-1", string? content = null) =>
        new() { Id = id, SessionId = sessionId, Sender = sender, Content = content ?? $"chat-text:{id}" };

    protected async Task<ChatSession> NewSessionAsync(string sessionId = "s-1", params string[] participants) =>
        await Store.CreateSessionAsync(sessionId, participants.Length == 0 ? ["Agent-1", "Agent-2"] : participants, cancellationToken: Ct);

    protected async Task AppendAsync(string sessionId, int count, string idPrefix = "m-")
    {
        var batch = Enumerable.Range(1, count).Select(i => Message(sessionId, $"{idPrefix}{i}")).ToArray();
        foreach (var chunk in batch.Chunk(1000))
        {
            await Store.AddMessagesAsync(sessionId, chunk, Ct);
        }
    }

    protected static Task<List<ChatMessage>> ReadAllAsync(SessionPersistence store, string sessionId) =>
        StoredMessages.ReadAllAsync(store, sessionId, Ct);

    protected static void ShouldBeGapless(IReadOnlyList<ChatMessage> messages, long first = 1) =>
        StoredMessages.ShouldBeGapless(messages, first);
}

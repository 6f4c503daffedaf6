using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>
/// What the re-encryption and guarded-replacement tests share: one storage per test, any number of instances over it
/// with other key rings (<see cref="Open"/>), and a store-independent snapshot of what a session reads back as. A store's
/// test class says only how to point options at its storage.
/// </summary>
public abstract class ReencryptionStoreTestBase : IAsyncLifetime
{
    private readonly List<SessionPersistence> _opened = [];

    /// <summary>Identifies this test's private storage (a folder name, a key prefix …).</summary>
    protected string StorageKey { get; } = "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>One clock for every instance: 1 ms on every read, so two creates never share a creation time.</summary>
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Points <paramref name="options"/> at this test's storage.</summary>
    protected abstract void ConfigureStorage(SessionPersistenceOptions options);

    /// <summary>Removes this test's storage.</summary>
    protected virtual ValueTask DeleteStorageAsync() => ValueTask.CompletedTask;

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var opened in _opened)
        {
            await opened.DisposeAsync();
        }

        await DeleteStorageAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Another instance over this test's storage, with <paramref name="layers"/> (keys, compression) applied.</summary>
    protected virtual SessionPersistence Open(Action<SessionPersistenceOptions> layers)
    {
        var options = new SessionPersistenceOptions { TimeProvider = Clock };
        ConfigureStorage(options);
        layers(options);
        return Track(SessionPersistence.Create(options));
    }

    /// <summary>Disposes <paramref name="persistence"/> with the test.</summary>
    protected SessionPersistence Track(SessionPersistence persistence)
    {
        _opened.Add(persistence);
        return persistence;
    }

    /// <summary>Ring {A, B}, <paramref name="current"/> encrypting.</summary>
    protected static Action<SessionPersistenceOptions> Both(string current) => o => ProtectionSettings.Encrypt(o, current);

    /// <summary>Ring {B}: key A retired.</summary>
    protected static void OnlyB(SessionPersistenceOptions options)
    {
        options.Encryption.Keys[ProtectionSettings.KeyB] = ProtectionSettings.KeyBBase64;
        options.Encryption.CurrentKeyId = ProtectionSettings.KeyB;
    }

    protected static void NoEncryption(SessionPersistenceOptions options)
    {
    }

    protected static ChatMessage Message(string sessionId, string id, string? content = null) => new()
    {
        Id = id,
        SessionId = sessionId,
        Sender = "Agent-1",
        Content = content ?? $"content of {id}",
        Metadata = new Dictionary<string, string> { ["note"] = $"note of {id}" },
    };

    /// <summary>The session and every message as <paramref name="store"/> reads them (plain), as one string.</summary>
    protected static async Task<string> SnapshotAsync(SessionPersistence store, string sessionId)
    {
        var text = new StringBuilder(JsonSerializer.Serialize(await store.GetSessionAsync(sessionId, Ct)));
        foreach (var message in await StoredMessages.ReadAllAsync(store, sessionId, Ct))
        {
            text.Append('\n').Append(JsonSerializer.Serialize(message));
        }

        return text.ToString();
    }
}

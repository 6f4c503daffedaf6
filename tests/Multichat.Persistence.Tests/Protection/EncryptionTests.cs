using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Protection;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>What encryption promises beyond the conformance suite: stored values are envelopes bound to their place,
/// keys rotate, failures are typed and name no secret, and the key ring is validated by setting name.</summary>
public sealed class EncryptionTests
{
    private const string Marker = "MARKER-7f3c-secret";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StoredValues_AreEnvelopes_AndReadBackPlain()
    {
        await using var store = Open(o => ProtectionSettings.Encrypt(o));
        await WriteMarkedSessionAsync(store);

        var raw = SessionStorePipeline.StoredForm(store.Store);
        var session = (await raw.GetSessionAsync("s-1", Ct))!;
        var message = (await raw.GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages.Single();

        new[] { session.Title!, session.Metadata["topic"], message.Content, message.Metadata["note"] }
            .Should().OnlyContain(v => v.StartsWith("mc1:", StringComparison.Ordinal) && !v.Contains(Marker, StringComparison.Ordinal));
        message.Sender.Should().Be("Agent-1", "senders stay plain: they are indexed");
        session.Participants.Should().Equal("Agent-1", "Agent-2");

        var plain = (await store.GetMessagesAsync("s-1", 10, Ct)).Single();
        plain.Content.Should().Be($"content {Marker}");
        plain.Metadata["note"].Should().Be($"note {Marker}");
        (await store.GetSessionAsync("s-1", Ct))!.Title.Should().Be($"title {Marker}");
    }

    [Fact]
    public async Task SameValueTwice_GetsTwoDifferentEnvelopes()
    {
        await using var store = Open(o => ProtectionSettings.Encrypt(o));
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", [Message("m-1", "same"), Message("m-2", "same")], Ct);

        var stored = (await SessionStorePipeline.StoredForm(store.Store).GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages;

        stored[0].Content.Should().NotBe(stored[1].Content, "every envelope has its own random nonce");
    }

    [Theory]
    [InlineData("other-message")]
    [InlineData("other-session")]
    [InlineData("metadata-field")]
    public async Task CiphertextMovedElsewhere_FailsWithTheTypedError(string target)
    {
        await using var store = Open(o => ProtectionSettings.Encrypt(o));
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.CreateSessionAsync("s-2", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1", $"content {Marker}"), Ct);
        var raw = SessionStorePipeline.StoredForm(store.Store);
        var envelope = (await raw.GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages[0].Content;

        // Written below the layer, as a hand edit of the backend would.
        var moved = target switch
        {
            "other-message" => new ChatMessage { Id = "m-2", SessionId = "s-1", Sender = "Agent-1", Content = envelope, Sequence = 2 },
            "other-session" => new ChatMessage { Id = "m-1", SessionId = "s-2", Sender = "Agent-1", Content = envelope, Sequence = 1 },
            _ => new ChatMessage
            {
                Id = "m-2", SessionId = "s-1", Sender = "Agent-1", Content = "x", Sequence = 2,
                Metadata = new Dictionary<string, string> { ["note"] = envelope },
            },
        };
        await raw.ImportSessionAsync((await raw.GetSessionAsync(moved.SessionId, Ct))! with { LastSequence = moved.Sequence }, replaceExisting: true, Ct);
        await raw.ImportMessagesAsync(moved.SessionId, [moved], Ct);

        var read = () => store.GetMessagesAsync(moved.SessionId, 10, Ct);

        var failure = (await read.Should().ThrowAsync<DecryptionFailedException>()).Which;
        failure.SessionId.Should().Be(moved.SessionId);
        failure.MessageId.Should().Be(moved.Id);
        failure.KeyId.Should().Be(ProtectionSettings.KeyA);
        failure.Message.Should().NotContain(Marker).And.NotContain(envelope[4..20]).And.NotContain(ProtectionSettings.KeyABase64);
    }

    [Fact]
    public async Task Rotation_OldKeyReadsWhileListed_AndWithoutItGivesTheTypedError()
    {
        var memory = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await using var underA = Over(memory, o => ProtectionSettings.Encrypt(o, ProtectionSettings.KeyA));
        await underA.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await underA.AddMessageAsync(Message("m-1", "written under A"), Ct);
        await using var underB = Over(memory, o => ProtectionSettings.Encrypt(o, ProtectionSettings.KeyB));
        await underB.AddMessageAsync(Message("m-2", "written under B"), Ct);

        (await underB.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Content).Should().Equal("written under A", "written under B");

        await using var onlyB = Over(memory, o =>
        {
            o.Encryption.Keys[ProtectionSettings.KeyB] = ProtectionSettings.KeyBBase64;
            o.Encryption.CurrentKeyId = ProtectionSettings.KeyB;
        });
        var read = () => onlyB.GetMessagesAsync("s-1", 10, Ct);
        var failure = (await read.Should().ThrowAsync<DecryptionFailedException>()).Which;
        failure.KeyId.Should().Be(ProtectionSettings.KeyA);
        failure.MessageId.Should().Be("m-1");
        failure.Message.Should().Contain("not in the key ring");
        (await onlyB.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = 1 }, Ct)).Messages.Single().Content.Should().Be("written under B");
        await memory.DisposeAsync();
    }

    [Fact]
    public async Task PageWithOneUndecryptableMessage_FailsAsAWhole_AndPagesAroundItStillRead()
    {
        await using var store = Open(o => ProtectionSettings.Encrypt(o));
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await store.AddMessagesAsync("s-1", [Message("m-1", "one"), Message("m-2", "two"), Message("m-3", "three")], Ct);
        var raw = SessionStorePipeline.StoredForm(store.Store);
        var stored = (await raw.GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages;
        var session = (await raw.GetSessionAsync("s-1", Ct))!;
        await raw.ImportSessionAsync(session, replaceExisting: true, Ct);
        await raw.ImportMessagesAsync("s-1", [stored[0], stored[1] with { Content = stored[2].Content }, stored[2]], Ct);

        var whole = () => store.GetMessagesAsync("s-1", 10, Ct);

        (await whole.Should().ThrowAsync<DecryptionFailedException>()).Which.MessageId.Should().Be("m-2");
        (await store.GetMessagesAsync("s-1", new MessageQuery { BeforeSequence = 2 }, Ct)).Messages.Single().Content.Should().Be("one");
        (await store.GetMessagesAsync("s-1", new MessageQuery { AfterSequence = 2 }, Ct)).Messages.Single().Content.Should().Be("three");
    }

    [Fact]
    public async Task WithoutAnyKey_AnEncryptedValueGivesTheTypedError()
    {
        var memory = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await using var encrypted = Over(memory, o => ProtectionSettings.Encrypt(o));
        await encrypted.CreateSessionAsync("s-1", ["Agent-1"], title: "secret title", cancellationToken: Ct);
        await using var plain = Over(memory, _ => { });

        var read = () => plain.GetSessionAsync("s-1", Ct);

        (await read.Should().ThrowAsync<DecryptionFailedException>()).Which.Message.Should().Contain("title of session 's-1'").And.NotContain("secret");
        await memory.DisposeAsync();
    }

    [Fact]
    public async Task Backup_OfAnEncryptedStore_HoldsNoPlainText_AndRestoresWithTheRing()
    {
        await using var store = Open(o => ProtectionSettings.Encrypt(o));
        await WriteMarkedSessionAsync(store);
        using var archive = new MemoryStream();
        await store.BackupAsync(archive, Ct);

        ArchiveText(archive.ToArray()).Should().NotContain(Marker);

        await using var target = Open(o => ProtectionSettings.Encrypt(o, ProtectionSettings.KeyB));
        archive.Position = 0;
        await target.RestoreAsync(archive, RestoreMode.Fail, cancellationToken: Ct);
        (await target.GetMessagesAsync("s-1", 10, Ct)).Single().Content.Should().Be($"content {Marker}");
        (await target.GetSessionAsync("s-1", Ct))!.Metadata["topic"].Should().Be($"topic {Marker}");
    }

    [Fact]
    public async Task Restore_ValuesAtTheirLimits_FitThoughTheirEnvelopesAreLonger()
    {
        await using var store = Open(o => ProtectionSettings.Encrypt(o));
        var options = new SessionPersistenceOptions();
        await store.CreateSessionAsync(
            "s-1", ["Agent-1"], title: new string('t', 4096),
            metadata: new Dictionary<string, string> { ["k"] = new string('v', options.MaxMetadataValueLength) }, cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1", new string('c', options.MaxContentLength)), Ct);
        using var archive = new MemoryStream();
        await store.BackupAsync(archive, Ct);
        archive.Position = 0;
        await using var target = Open(o => ProtectionSettings.Encrypt(o));

        (await target.VerifyBackupAsync(archive, Ct)).Messages.Should().Be(1);
        archive.Position = 0;
        await target.RestoreAsync(archive, cancellationToken: Ct);

        (await target.GetMessagesAsync("s-1", 1, Ct))[0].Content.Length.Should().Be(options.MaxContentLength);
        (await target.GetSessionAsync("s-1", Ct))!.Metadata["k"].Length.Should().Be(options.MaxMetadataValueLength);
    }

    [Fact]
    public async Task Import_FromAPlainStore_EncryptsWhatItWrites()
    {
        await using var source = Open(_ => { });
        await WriteMarkedSessionAsync(source);
        await using var target = Open(o => ProtectionSettings.Encrypt(o));

        await target.ImportAsync(source.ExportAsync(Ct), cancellationToken: Ct);

        var raw = SessionStorePipeline.StoredForm(target.Store);
        (await raw.GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages.Single().Content.Should().StartWith("mc1:").And.NotContain(Marker);
        (await target.GetMessagesAsync("s-1", 10, Ct)).Single().Content.Should().Be($"content {Marker}");
    }

    [Fact]
    public async Task KeyProviderFromTheContainer_IsTheKeySource()
    {
        using var ring = new EncryptionKeyRing("vault-1", [new("vault-1", new byte[32])]);
        var services = new ServiceCollection()
            .AddSingleton<IEncryptionKeyProvider>(new FixedKeys(ring))
            .AddSessionPersistence(o => o.StorageType = StorageType.Memory);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<SessionPersistence>();

        await store.CreateSessionAsync("s-1", ["Agent-1"], title: "vaulted", cancellationToken: Ct);

        var stored = await SessionStorePipeline.StoredForm(store.Store).GetSessionAsync("s-1", Ct);
        stored!.Title.Should().StartWith("mc1:");
        (await store.GetSessionAsync("s-1", Ct))!.Title.Should().Be("vaulted");
    }

    [Theory]
    [InlineData("Keys:k1", "bm90IDMyIGJ5dGVz", "Encryption:Keys:k1 is not the base64 of 32 bytes")]
    [InlineData("Keys:k1", "%%%not-base64%%%", "Encryption:Keys:k1 is not the base64 of 32 bytes")]
    [InlineData("CurrentKeyId", "k2", "Encryption:CurrentKeyId is 'k2', which is not among Encryption:Keys")]
    public void Configuration_BadKeyRing_FailsNamingTheSettingAndNeverTheKey(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["SessionPersistence:StorageType"] = "Memory",
            ["SessionPersistence:Encryption:CurrentKeyId"] = "k1",
            ["SessionPersistence:Encryption:Keys:k1"] = ProtectionSettings.KeyABase64,
            ["SessionPersistence:Encryption:" + key] = value,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddSessionPersistence(configuration.GetSection("SessionPersistence")).BuildServiceProvider();

        var resolve = () => provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;

        resolve.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain(expected).And.NotContain(ProtectionSettings.KeyABase64)
            .And.NotContain(value.Length > 10 ? value : "\u0000");
    }

    [Fact]
    public void Configuration_GoodKeyRing_Binds()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SessionPersistence:StorageType"] = "Memory",
            ["SessionPersistence:Encryption:CurrentKeyId"] = "2026-12",
            ["SessionPersistence:Encryption:Keys:2026-12"] = ProtectionSettings.KeyABase64,
            ["SessionPersistence:Encryption:Keys:2026-06"] = ProtectionSettings.KeyBBase64,
            ["SessionPersistence:Compression:Enabled"] = "true",
            ["SessionPersistence:Compression:MinSize"] = "2048",
        }).Build();
        using var provider = new ServiceCollection().AddSessionPersistence(configuration.GetSection("SessionPersistence")).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SessionPersistenceOptions>>().Value;

        options.Encryption.CurrentKeyId.Should().Be("2026-12");
        options.Encryption.Keys.Keys.Should().BeEquivalentTo(["2026-12", "2026-06"]);
        options.Compression.Should().Match<CompressionOptions>(c => c.Enabled && c.MinSize == 2048);
    }

    [Fact]
    public void Options_NullGroups_FailValidationNamingThem()
    {
        var nullGroups = () => SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory, Encryption = null!, Compression = null! });

        nullGroups.Should().Throw<OptionsValidationException>().WithMessage("*Encryption is null*").WithMessage("*Compression is null*");
    }

    [Fact]
    public void KeyRing_BadKeys_ThrowNamingTheIdOnly()
    {
        var shortKey = () => new EncryptionKeyRing("k", [new("k", new byte[16])]);
        var badId = () => new EncryptionKeyRing("k k", [new("k k", new byte[32])]);
        var missingCurrent = () => new EncryptionKeyRing("z", [new("k", new byte[32])]);

        shortKey.Should().Throw<ArgumentException>().WithMessage("Key 'k' has 16 bytes*");
        badId.Should().Throw<ArgumentException>().WithMessage("*not valid*");
        missingCurrent.Should().Throw<ArgumentException>().WithMessage("*'z' is not among*");
    }

    internal static async Task WriteMarkedSessionAsync(SessionPersistence store)
    {
        await store.CreateSessionAsync(
            "s-1", ["Agent-1", "Agent-2"], title: $"title {Marker}", metadata: new Dictionary<string, string> { ["topic"] = $"topic {Marker}" }, cancellationToken: Ct);
        await store.AddMessageAsync(Message("m-1", $"content {Marker}") with { Metadata = new Dictionary<string, string> { ["note"] = $"note {Marker}" } }, Ct);
    }

    internal static string MarkerText => Marker;

    internal static string ArchiveText(byte[] archive)
    {
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(archive), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return reader.ReadToEnd();
    }

    [Fact]
    public async Task ManyThreadsSealingAndOpeningAtOnce_EachGetsItsOwnCipher()
    {
        // An AesGcm instance must not serve two threads at once: the ring's pool hands each call its own, so values
        // sealed and opened in parallel all round-trip (a shared cipher would fail tags or mix up plaintexts).
        using var ring = new EncryptionKeyRing("k", [new("k", new byte[EncryptionKeyRing.KeySize])]);
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(
            () =>
            {
                for (var i = 0; i < 2_000; i++)
                {
                    var where = ValueLocation.Content($"s-{worker}", $"m-{i}");
                    var plain = $"worker {worker} value {i} {new string('x', i % 300)}";
                    var stored = ValueEnvelope.Seal(plain, where, ring, compressAtLeast: 0);
                    if (ValueEnvelope.Open(stored, where, ring, int.MaxValue) != plain)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            },
            Ct)));

        failures.Should().Be(0);
    }

    private static ChatMessage Message(string id, string content) => new() { Id = id, SessionId = "s-1", Sender = "Agent-1", Content = content };

    private static SessionPersistence Open(Action<SessionPersistenceOptions> configure)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory };
        configure(options);
        return SessionPersistence.Create(options);
    }

    /// <summary>Another facade (other keys) over the same Memory store.</summary>
    private static SessionPersistence Over(SessionPersistence store, Action<SessionPersistenceOptions> configure)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory };
        configure(options);
        return new SessionPersistence(store.Store, options, ownsStore: false);
    }

    private sealed class FixedKeys(EncryptionKeyRing ring) : IEncryptionKeyProvider
    {
        public ValueTask<EncryptionKeyRing> GetKeyRingAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ring);
    }
}

using FluentAssertions;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>Brotli above MinSize, before encryption, only where it helps, transparent to callers; and plain text
/// that looks like an envelope stays what it is.</summary>
public sealed class CompressionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LargeRepetitiveContent_IsStoredSmaller_AndReadsBackTheSame(bool encrypt)
    {
        await using var store = Open(o =>
        {
            o.Compression.Enabled = true;
            if (encrypt)
            {
                ProtectionSettings.Encrypt(o);
            }
        });
        var content = string.Concat(Enumerable.Range(0, 200).Select(i => $"Agent-{i % 3} says: let us refactor the parser, step {i}.\n"));
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);

        await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = content }, Ct);

        var stored = (await SessionStorePipeline.StoredForm(store.Store).GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages[0].Content;
        stored.Should().StartWith("mc1:");
        stored.Length.Should().BeLessThan(content.Length / 4);
        (await store.GetMessagesAsync("s-1", 1, Ct))[0].Content.Should().Be(content);
    }

    [Fact]
    public async Task ShortContent_IsStoredAsItIs()
    {
        await using var store = Open(o => o.Compression.Enabled = true);
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);

        await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = "short" }, Ct);

        (await SessionStorePipeline.StoredForm(store.Store).GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages[0].Content.Should().Be("short");
    }

    [Fact]
    public async Task IncompressibleContent_IsStoredAsItIs()
    {
        await using var store = Open(o => (o.Compression.Enabled, o.Compression.MinSize) = (true, 16));
        // Just above MinSize and random: Brotli's framing and the length prefix outweigh anything it could save.
        var random = new Random(7);
        var content = new string(Enumerable.Range(0, 24).Select(_ => "abcdefghijklmnopqrstuvwxyz0123456789"[random.Next(36)]).ToArray());
        await store.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);

        await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = content }, Ct);

        var stored = (await SessionStorePipeline.StoredForm(store.Store).GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages[0].Content;
        stored.Should().Be(content, "Brotli did not make it smaller, so it is kept plain");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PlainTextThatLooksLikeAnEnvelope_RoundTrips(bool compression)
    {
        await using var store = Open(o => o.Compression.Enabled = compression);
        await store.CreateSessionAsync("s-1", ["Agent-1"], title: "mc1:AQAB", cancellationToken: Ct);

        await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = "mc1:not an envelope" }, Ct);

        (await store.GetMessagesAsync("s-1", 1, Ct))[0].Content.Should().Be("mc1:not an envelope");
        (await store.GetSessionAsync("s-1", Ct))!.Title.Should().Be("mc1:AQAB");
    }

    [Fact]
    public async Task CompressedArchive_RestoresIntoAStoreWithoutCompression()
    {
        await using var source = Open(o => o.Compression.Enabled = true);
        var content = new string('x', 5000);
        await source.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await source.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "Agent-1", Content = content }, Ct);
        using var archive = new MemoryStream();
        await source.BackupAsync(archive, Ct);
        archive.Position = 0;
        await using var target = Open(_ => { });

        await target.RestoreAsync(archive, cancellationToken: Ct);

        (await target.GetMessagesAsync("s-1", 1, Ct))[0].Content.Should().Be(content);
    }

    private static SessionPersistence Open(Action<SessionPersistenceOptions> configure)
    {
        var options = new SessionPersistenceOptions { StorageType = StorageType.Memory };
        configure(options);
        return SessionPersistence.Create(options);
    }
}

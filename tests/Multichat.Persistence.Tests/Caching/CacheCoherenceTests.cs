using FluentAssertions;

namespace Multichat.Persistence.Tests.Caching;

/// <summary>
/// The cache coherence acceptance test (issue 13): a writer without a cache appends, trims, updates, deletes and
/// re-creates a session while another instance — another process for Json and Sqlite, another multiplexer for Redis —
/// reads it through its cache without pause. After each write completes the reader's next read shows exactly what the
/// store holds, and nothing the reader saw in between was ever a state the store did not hold.
/// </summary>
public abstract class CacheCoherenceTests : IAsyncLifetime
{
    private const string SessionId = "shared";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The writer's options over the shared storage (no cache).</summary>
    protected abstract SessionPersistenceOptions WriterOptions();

    /// <summary>Starts the other instance, reading <paramref name="sessionId"/> through its cache.</summary>
    protected abstract Task<ICoherenceReader> StartReaderAsync(string sessionId);

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task EveryWrite_IsInTheOtherInstancesNextRead_AndNoReadShowsAStateNeverHeld()
    {
        await using var writer = SessionPersistence.Create(WriterOptions());
        await using var reader = await StartReaderAsync(SessionId);
        var heldMessages = new HashSet<string> { "-" };
        var heldRecords = new HashSet<string> { "-" };
        var step = 0;
        var life = 0;
        var next = 0;

        async Task CheckAsync(string what)
        {
            var expected = await InProcessCoherenceReader.DescribeAsync(writer, SessionId);
            heldMessages.Add(expected.Messages);
            heldRecords.Add(expected.Record);
            (await reader.ReadAsync(++step)).Should().Be(expected, $"the reader's next read after step {step} ({what}) shows the completed write");
        }

        ChatMessage[] Batch(int count) =>
            [.. Enumerable.Range(0, count).Select(_ => new ChatMessage { Id = $"m-{++next}", SessionId = SessionId, Sender = "Agent-1", Content = $"life{life}-{next}" })];

        await CheckAsync("nothing yet");
        var random = new Random(4242);
        for (var round = 0; round < 3; round++)
        {
            life++;
            next = 0;
            await writer.CreateSessionAsync(SessionId, ["Agent-1"], cancellationToken: Ct);
            await CheckAsync("create");
            for (var i = 0; i < 14; i++)
            {
                switch (random.Next(8))
                {
                    case < 4:
                        await writer.AddMessagesAsync(SessionId, Batch(random.Next(1, 5)), Ct);
                        await CheckAsync("append");
                        break;
                    case 4:
                        await writer.TrimMessagesAsync(SessionId, random.Next(0, 7), Ct);
                        await CheckAsync("trim");
                        break;
                    case 5:
                        var session = (await writer.GetSessionAsync(SessionId, Ct))!;
                        await writer.UpdateSessionAsync(session with { Title = $"title-{life}-{i}" }, Ct);
                        await CheckAsync("update");
                        break;
                    default:
                        await writer.AddMessageAsync(Batch(1)[0], Ct);
                        await CheckAsync("append one");
                        break;
                }
            }

            await writer.DeleteSessionAsync(SessionId, Ct);
            await CheckAsync("delete");
        }

        reader.SeenMessages.Should().BeSubsetOf(heldMessages, "a read never shows a message set the store never held");
        reader.SeenRecords.Should().BeSubsetOf(heldRecords, "a read never shows a record the store never held");
    }
}

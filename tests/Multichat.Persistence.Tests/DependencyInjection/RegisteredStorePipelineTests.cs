using System.Diagnostics.Metrics;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;

namespace Multichat.Persistence.Tests.DependencyInjection;

/// <summary>
/// DI's <see cref="ISessionStore"/> is the composed pipeline: whoever resolves it gets the facade's validation, limits
/// and telemetry, and bad input stores nothing.
/// </summary>
public sealed class RegisteredStorePipelineTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-di-tests", Guid.NewGuid().ToString("N")[..12]);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<StorageType> StorageTypes => [StorageType.Memory, StorageType.Json, StorageType.Sqlite];

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(StorageTypes))]
    public async Task RegisteredStore_InvalidSessionId_ThrowsTheFacadesArgumentExceptionAndStoresNothing(StorageType storageType)
    {
        await using var provider = Provider(storageType);
        var (store, facade) = (provider.GetRequiredService<ISessionStore>(), provider.GetRequiredService<SessionPersistence>());
        var bad = new ChatSession { SessionId = "bell\u0007", Participants = ["a"] };

        var viaStore = await Capture(() => store.CreateSessionAsync(bad, SessionLimit.None, Ct));
        var viaFacade = await Capture(() => facade.CreateSessionAsync(bad, Ct));

        viaStore.Should().BeOfType(viaFacade.GetType());
        viaStore.Message.Should().Be(viaFacade.Message);
        viaStore.ParamName.Should().Be(viaFacade.ParamName);
        (await store.GetStatisticsAsync(Ct)).SessionCount.Should().Be(0);
    }

    [Theory]
    [MemberData(nameof(StorageTypes))]
    public async Task RegisteredStore_ParticipantWithLineFeed_ThrowsArgumentExceptionAndStoresNothing(StorageType storageType)
    {
        await using var provider = Provider(storageType);
        var store = provider.GetRequiredService<ISessionStore>();

        var act = () => store.CreateSessionAsync(new ChatSession { SessionId = "s-1", Participants = ["Agent-1\nAgent-2"] }, SessionLimit.None, Ct);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("control character U+000A");
        (await store.GetSessionAsync("s-1", Ct)).Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(StorageTypes))]
    public async Task RegisteredStore_OversizedBatch_ThrowsArgumentExceptionAndStoresNothing(StorageType storageType)
    {
        await using var provider = Provider(storageType, o => o.MaxBatchSize = 3);
        var store = provider.GetRequiredService<ISessionStore>();
        await store.CreateSessionAsync(new ChatSession { SessionId = "s-1", Participants = ["a"] }, SessionLimit.None, Ct);
        var batch = Enumerable.Range(1, 4).Select(i => new ChatMessage { Id = $"m-{i}", SessionId = "s-1", Sender = "a", Content = "x" }).ToArray();

        var act = () => store.AppendMessagesAsync("s-1", batch, MessageLimit.None, Ct);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("MaxBatchSize");
        (await store.GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(StorageTypes))]
    public async Task RegisteredStore_MessageIdWithControlCharacter_ThrowsArgumentExceptionAndStoresNothing(StorageType storageType)
    {
        await using var provider = Provider(storageType);
        var store = provider.GetRequiredService<ISessionStore>();
        await store.CreateSessionAsync(new ChatSession { SessionId = "s-1", Participants = ["a"] }, SessionLimit.None, Ct);

        var act = () => store.AppendMessagesAsync("s-1", [new ChatMessage { Id = "m\r1", SessionId = "s-1", Sender = "a", Content = "x" }], MessageLimit.None, Ct);

        await act.Should().ThrowAsync<ArgumentException>();
        (await store.GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(StorageTypes))]
    public async Task RegisteredStore_WithMaxSessions_RefusesTheCreateBeyondIt(StorageType storageType)
    {
        await using var provider = Provider(storageType, o => o.MaxSessions = 1);
        var store = provider.GetRequiredService<ISessionStore>();
        await store.CreateSessionAsync(new ChatSession { SessionId = "s-1", Participants = ["a"] }, SessionLimit.None, Ct);

        var act = () => store.CreateSessionAsync(new ChatSession { SessionId = "s-2", Participants = ["a"] }, SessionLimit.None, Ct);

        await act.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetSessionAsync("s-2", Ct)).Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(StorageTypes))]
    public async Task RegisteredStore_WithMaxMessagesPerSession_TrimsOnAppend(StorageType storageType)
    {
        await using var provider = Provider(storageType, o => o.MaxMessagesPerSession = 2);
        var store = provider.GetRequiredService<ISessionStore>();
        await store.CreateSessionAsync(new ChatSession { SessionId = "s-1", Participants = ["a"] }, SessionLimit.None, Ct);

        await store.AppendMessagesAsync(
            "s-1", [.. Enumerable.Range(1, 3).Select(i => new ChatMessage { Id = $"m-{i}", SessionId = "s-1", Sender = "a", Content = "x" })], MessageLimit.None, Ct);

        (await store.GetMessagesAsync("s-1", new MessageQuery(), Ct)).Messages.Select(m => m.Sequence).Should().Equal(2, 3);
    }

    [Fact]
    public async Task RegisteredStore_Calls_AreMeasuredByTheDurationHistogram()
    {
        await using var provider = Provider(StorageType.Memory);
        var store = provider.GetRequiredService<ISessionStore>();
        var operations = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Multichat.Persistence" && instrument.Name == "multichat.persistence.operation.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var operation = tags.ToArray().Single(t => t.Key == "multichat.operation").Value as string;
            lock (operations)
            {
                operations.Add(operation!);
            }
        });
        listener.Start();

        await store.CreateSessionAsync(new ChatSession { SessionId = "telemetry-s-1", Participants = ["a"] }, SessionLimit.None, Ct);
        await store.GetSessionAsync("telemetry-s-1", Ct);

        lock (operations)
        {
            operations.Should().Contain(["create_session", "get_session"]);
        }
    }

    [Fact]
    public void ServiceProvider_DisposedSynchronously_ClosesTheStoreWithoutThrowing()
    {
        var services = new ServiceCollection().AddSessionPersistence(o => (o.StorageType, o.StoragePath) = (StorageType.Json, _folder));
        var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<SessionPersistence>();

        var act = provider.Dispose;

        act.Should().NotThrow("the facade and DI's ISessionStore implement IDisposable as well as IAsyncDisposable");
    }

    private ServiceProvider Provider(StorageType storageType, Action<SessionPersistenceOptions>? configure = null) =>
        new ServiceCollection().AddSessionPersistence(o =>
        {
            o.StorageType = storageType;
            o.StoragePath = _folder;
            configure?.Invoke(o);
        }).BuildServiceProvider();

    private static async Task<ArgumentException> Capture(Func<Task> act) =>
        (await act.Should().ThrowAsync<ArgumentException>()).Which;
}

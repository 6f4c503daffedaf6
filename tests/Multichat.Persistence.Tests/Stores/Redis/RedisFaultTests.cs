using System.Diagnostics;
using FluentAssertions;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The store against a private redis-server that the test kills, pauses and restarts: failures are reported as
/// <see cref="StoreUnavailableException"/> within the configured timeout, never as success and never as a hang, and
/// retried appends are not duplicated.
/// </summary>
public sealed class RedisFaultTests : IAsyncLifetime
{
    private const int TimeoutMs = 1000;

    private static readonly string[] DurableArguments = ["--appendonly", "yes", "--appendfsync", "always"];

    private RedisServerProcess? _server;
    private SessionPersistence? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RedisServerProcess Server => _server!;

    private SessionPersistence Store => _store!;

    public async ValueTask InitializeAsync()
    {
        string? unavailable = null;
        try
        {
            _server = RedisServerProcess.Executable is null ? null : await RedisServerProcess.StartAsync(DurableArguments);
        }
        catch (InvalidOperationException ex)
        {
            unavailable = ex.Message;
        }

        RedisFixture.RequireAvailable(_server is null ? unavailable ?? "redis-server is not installed; these tests need a private server they can kill." : null);
        _store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            // The first connection is bounded by the connect timeout (1 s failed it on a loaded machine, JIT included);
            // the faults below are on an open connection, bounded by the operation timeouts.
            ConnectionString = $"{Server.EndPoint},connectTimeout=5000,asyncTimeout={TimeoutMs},syncTimeout={TimeoutMs}",
        });
        await Store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task AddMessage_ServerStopped_ThrowsStoreUnavailableWithinTheTimeout()
    {
        await Store.AddMessageAsync(Message("m-1"), Ct);
        Server.Kill();

        var watch = Stopwatch.StartNew();
        var append = () => Store.AddMessageAsync(Message("m-2"), Ct);
        var thrown = await append.Should().ThrowAsync<StoreUnavailableException>();
        var read = () => Store.GetMessagesAsync("s-1", 10, Ct);
        await read.Should().ThrowAsync<StoreUnavailableException>();
        watch.Stop();

        thrown.Which.InnerException.Should().Match<Exception>(e => e is RedisConnectionException || e is RedisTimeoutException);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds((2 * TimeoutMs) + 3000), "two calls, each bounded by the configured timeout");
    }

    [Fact]
    public async Task AddMessage_AfterServerRestart_SucceedsAndARetryIsNotDuplicated()
    {
        await Store.AddMessageAsync(Message("m-1"), Ct);
        Server.Kill();
        var failed = () => Store.AddMessageAsync(Message("m-2"), Ct);
        await failed.Should().ThrowAsync<StoreUnavailableException>();

        await Server.RestartAsync();
        var retried = await RetryUntilAvailableAsync(() => Store.AddMessageAsync(Message("m-2"), Ct));
        var again = await Store.AddMessageAsync(Message("m-2"), Ct);

        retried.Sequence.Should().Be(2);
        again.Sequence.Should().Be(2);
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2");
    }

    [Fact]
    public async Task AddMessage_TimedOutButExecutedByTheServer_RetryReturnsTheStoredOriginal()
    {
        await Store.AddMessageAsync(Message("m-1"), Ct);
        using (var admin = await ConnectionMultiplexer.ConnectAsync(Server.EndPoint + ",allowAdmin=true"))
        {
            // Writes (scripts included) wait on the server longer than the client's timeout, then run. Five times the
            // timeout, not two: StackExchange.Redis notices an async timeout on its heartbeat (about once a second),
            // so on a loaded machine a 1 s timeout can be noticed after 2 s, when a 2 s pause had already let the
            // append through and the call succeeded instead of timing out.
            await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", (TimeoutMs * 5).ToString(System.Globalization.CultureInfo.InvariantCulture), "WRITE");
        }

        var timedOut = () => Store.AddMessageAsync(Message("m-2"), Ct);
        (await timedOut.Should().ThrowAsync<StoreUnavailableException>()).Which.InnerException.Should().BeOfType<RedisTimeoutException>();

        var retried = await RetryUntilAvailableAsync(() => Store.AddMessageAsync(Message("m-2"), Ct));

        retried.Sequence.Should().Be(2, "the timed-out append was stored when the pause ended; the retry found it");
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Select(m => m.Id).Should().Equal("m-1", "m-2");
    }

    [Fact]
    public async Task AddMessage_ServerKilledAndRestartedDuringAppends_KeepsEveryAcknowledgedMessage()
    {
        var acknowledged = new List<(string Id, long Sequence)>();
        var failures = 0;
        var otherErrors = new List<Exception>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var id = $"m-{i}";
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var stored = await Store.AddMessageAsync(Message(id), Ct);
                        lock (acknowledged)
                        {
                            acknowledged.Add((stored.Id, stored.Sequence));
                        }

                        break;
                    }
                    catch (StoreUnavailableException)
                    {
                        Interlocked.Increment(ref failures);
                        await Task.Delay(20, Ct);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        lock (otherErrors)
                        {
                            otherErrors.Add(ex);
                        }

                        return;
                    }
                }
            }
        }, Ct);

        await WaitUntilAsync(() => Count(acknowledged) >= 300);
        Server.Kill();
        var atKill = Count(acknowledged);
        await WaitUntilAsync(() => Volatile.Read(ref failures) > 0);
        await Server.RestartAsync();
        await WaitUntilAsync(() => Count(acknowledged) >= atKill + 300);
        await stop.CancelAsync();
        await writer;

        otherErrors.Should().BeEmpty("an outage is reported as StoreUnavailableException only");
        failures.Should().BePositive();
        var all = new List<ChatMessage>();
        MessageQuery? query = new() { Limit = 1000 };
        while (query is not null)
        {
            var page = await Store.GetMessagesAsync("s-1", query, Ct);
            all.AddRange(page.Messages);
            query = page.Next;
        }

        var stored = all.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
        acknowledged.Where(a => !stored.TryGetValue(a.Id, out var sequence) || sequence != a.Sequence).Should().BeEmpty("appendfsync always keeps every acknowledged append");
        all.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, all.Count).Select(i => (long)i));
        all.Should().HaveCount(acknowledged.Count, "each message was acknowledged once, retries included");
    }

    [Fact]
    public async Task CheckHealth_ServerStopped_IsUnhealthyWithTheFailure()
    {
        Server.Kill();

        var report = await Store.CheckHealthAsync(Ct);

        report.Status.Should().Be(StoreHealthStatus.Unhealthy);
        report.Exception.Should().BeOfType<StoreUnavailableException>();
    }

    [Fact]
    public async Task AnOperation_ServerDownAtStartThenUp_FailsThenSucceedsWithoutReopening()
    {
        var port = RedisServerProcess.FreePort();
        await using var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            // A short connect timeout also shortens the multiplexer's reconnect back-off (half of it, growing).
            ConnectionString = $"127.0.0.1:{port},connectTimeout={TimeoutMs},asyncTimeout={TimeoutMs}",
        });

        var early = () => store.CreateSessionAsync("late", ["a"], cancellationToken: Ct);
        await early.Should().ThrowAsync<StoreUnavailableException>();

        await using var late = await RedisServerProcess.StartAsync(port);
        var created = await RetryUntilAvailableAsync(() => store.CreateSessionAsync("late", ["a"], cancellationToken: Ct));

        created.Version.Should().Be(1);
        (await store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "late", Sender = "a", Content = "x" }, Ct)).Sequence.Should().Be(1);
    }

    private static int Count(List<(string Id, long Sequence)> list)
    {
        lock (list)
        {
            return list.Count;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "the condition should hold long before");
            await Task.Delay(10, Ct);
        }
    }

    private static async Task<T> RetryUntilAvailableAsync<T>(Func<Task<T>> operation)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await operation();
            }
            catch (StoreUnavailableException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50, Ct);
            }
        }
    }

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = "s-1", Sender = "a", Content = "content of " + id };
}

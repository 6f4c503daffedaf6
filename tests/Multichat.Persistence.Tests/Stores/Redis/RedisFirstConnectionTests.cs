using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The first call of a store, which has to connect: bounded by the connect timeout and by the caller's token however
/// the server fails (closed port, a peer that accepts and never answers), and an authentication failure says so
/// (#9 item 5). The bounds are generous for a loaded machine; the defect they catch took 5–21 s.
/// </summary>
public sealed class RedisFirstConnectionTests
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FirstCall_ClosedPort_ThrowsStoreUnavailableWithinTheConnectTimeout()
    {
        await using var store = Open($"127.0.0.1:{ClosedPort()}");

        var watch = Stopwatch.StartNew();
        var call = () => store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await call.Should().ThrowAsync<StoreUnavailableException>();

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3), "the first connection attempt is bounded by the 1 s connect timeout");
    }

    [Fact]
    public async Task FirstCall_ClosedPortAndTokenCanceled_EndsPromptly()
    {
        await using var store = Open($"127.0.0.1:{ClosedPort()}", TimeSpan.FromSeconds(10));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(200));

        var watch = Stopwatch.StartNew();
        var call = () => store.CreateSessionAsync("s-1", ["a"], cancellationToken: cancel.Token);
        var thrown = await call.Should().ThrowAsync<Exception>();

        // A refused connection may be reported before the token fires; either way the call ends at once.
        thrown.Which.Should().Match<Exception>(e => e is OperationCanceledException || e is StoreUnavailableException);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(1500), "the token is honoured while the connection is being made");
    }

    [Fact]
    public async Task FirstCall_PeerThatNeverAnswers_ThrowsStoreUnavailableWithinTheConnectTimeout()
    {
        using var silent = new SilentListener();
        await using var store = Open($"127.0.0.1:{silent.Port}");

        var watch = Stopwatch.StartNew();
        var call = () => store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await call.Should().ThrowAsync<StoreUnavailableException>();

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3), "a peer that accepts and never answers is bounded like a closed port");
    }

    [Fact]
    public async Task FirstCall_PeerThatNeverAnswersAndTokenCanceled_ThrowsOperationCanceledPromptly()
    {
        using var silent = new SilentListener();

        // A 10 s connect timeout, so only the 200 ms token can end the call in time.
        await using var store = Open($"127.0.0.1:{silent.Port}", TimeSpan.FromSeconds(10));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(200));

        var watch = Stopwatch.StartNew();
        var call = () => store.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1", Sender = "a", Content = "x" }, cancel.Token);
        await call.Should().ThrowAsync<OperationCanceledException>();

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public async Task ConcurrentFirstCalls_ClosedPort_EachBoundedByTheConnectTimeout()
    {
        await using var store = Open($"127.0.0.1:{ClosedPort()}");

        var watch = Stopwatch.StartNew();
        var calls = Enumerable.Range(0, 4).Select(async i =>
        {
            var call = () => store.CreateSessionAsync($"s-{i}", ["a"], cancellationToken: Ct);
            await call.Should().ThrowAsync<StoreUnavailableException>();
            return watch.Elapsed;
        }).ToArray();
        var finished = await Task.WhenAll(calls);

        finished.Should().OnlyContain(t => t < TimeSpan.FromSeconds(3), "a waiting caller does not inherit another's slow attempt beyond the bound");
    }

    [Fact]
    public async Task FirstCall_WrongPassword_ThrowsStoreUnavailableSayingAuthenticationFailed()
    {
        var server = await StartAsync("--requirepass", "right-password");
        await using (server)
        {
            await using var store = Open($"{server.EndPoint},password=wrong-password");

            var watch = Stopwatch.StartNew();
            var call = () => store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
            var thrown = await call.Should().ThrowAsync<StoreUnavailableException>();

            thrown.Which.Message.Should().ContainEquivalentOf("authentication").And.NotContainEquivalentOf("cannot be reached");
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3));
        }
    }

    [Fact]
    public async Task AnyCall_NoPasswordGivenToAServerThatRequiresOne_ThrowsStoreUnavailableSayingAuthenticationFailed()
    {
        var server = await StartAsync("--requirepass", "right-password");
        await using (server)
        {
            await using var store = Open(server.EndPoint);

            var call = () => store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
            var thrown = await call.Should().ThrowAsync<StoreUnavailableException>();

            thrown.Which.Message.Should().ContainEquivalentOf("authentication").And.NotContainEquivalentOf("cannot be reached");
        }
    }

    [Fact]
    public async Task FirstCall_ServerUp_SucceedsAndTheNextCallsReuseTheConnection()
    {
        var server = await StartAsync();
        await using (server)
        {
            await using var store = Open(server.EndPoint);

            var calls = Enumerable.Range(0, 8).Select(i => store.CreateSessionAsync($"s-{i}", ["a"], cancellationToken: Ct)).ToArray();
            await Task.WhenAll(calls);

            (await store.GetSessionAsync("s-7", Ct)).Should().NotBeNull();
            (await server.CliAsync("CLIENT", "LIST")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Count(line => line.Contains("cmd=client", StringComparison.Ordinal) is false)
                .Should().BeLessThanOrEqualTo(2, "one multiplexer (interactive and subscription connections), not one per caller");
        }
    }

    private static SessionPersistence Open(string connectionString, TimeSpan? connectTimeout = null) => SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Redis,
        ConnectionString = connectionString,
        RedisConnectTimeout = connectTimeout ?? ConnectTimeout,
    });

    private static async Task<RedisServerProcess> StartAsync(params string[] arguments)
    {
        RedisFixture.RequireAvailable(RedisServerProcess.Executable is null ? "redis-server is not installed." : null);
        return await RedisServerProcess.StartAsync(arguments);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A loopback listener that accepts connections and never answers (nor closes them while it lives).</summary>
    private sealed class SilentListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _accepted = [];
        private readonly CancellationTokenSource _stop = new();

        public SilentListener()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptAsync();
        }

        public int Port { get; }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_accepted)
            {
                foreach (var socket in _accepted)
                {
                    socket.Dispose();
                }
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_accepted)
                    {
                        _accepted.Add(socket);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// The failover acceptance test of issue 13: appends stream with MinReplicas = 1 through a Sentinel connection string;
/// the primary is killed with SIGKILL and the Sentinel promotes the replica. Every acknowledged message must be on the
/// new primary, appends must resume on the same <see cref="SessionPersistence"/> instance, and a call during the
/// switch either succeeds or fails with <see cref="StoreUnavailableException"/> (a
/// <see cref="ReplicationTimeoutException"/> among them), never a silent loss. Its own deployment, since it kills the primary.
/// </summary>
public sealed class RedisSentinelFailoverTests : IAsyncLifetime
{
    private const int AcknowledgedBeforeKill = 30;
    private const int AcknowledgedAfterFailover = 30;

    private RedisReplicatedDeployment? _deployment;
    private RedisServerProcess? _rejoined;
    private string? _unavailableReason;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        if (RedisServerProcess.Executable is null || RedisServerProcess.CliExecutable is null)
        {
            _unavailableReason = "redis-server and redis-cli are not installed; the failover test starts a primary, a replica and a Sentinel of its own.";
            return;
        }

        try
        {
            _deployment = await RedisReplicatedDeployment.StartAsync(replicas: 1);
        }
        catch (InvalidOperationException ex)
        {
            _unavailableReason = "No primary, replica and Sentinel could be started: " + ex.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_rejoined is not null)
        {
            await _rejoined.DisposeAsync();
        }

        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    [Fact]
    public async Task AddMessage_PrimaryKilledUnderSentinel_EveryAcknowledgedMessageIsOnTheNewPrimaryAndAppendsResume()
    {
        RedisFixture.RequireAvailable(_unavailableReason);
        var deployment = _deployment!;
        var clock = Stopwatch.StartNew();
        await using var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = deployment.SentinelConnectionString,
            MinReplicas = 1,
            ReplicaTimeout = TimeSpan.FromMilliseconds(500),
            RedisOperationTimeout = TimeSpan.FromSeconds(2),
            RedisConnectTimeout = TimeSpan.FromSeconds(2),
        });
        await store.CreateSessionAsync("s-1", ["agent"], cancellationToken: Ct);

        var acknowledged = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var failures = new ConcurrentBag<Exception>();
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var acknowledgedAfterFailover = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(25));

        var writer = Task.Run(
            async () =>
            {
                for (var i = 1; !stop.IsCancellationRequested; i++)
                {
                    var id = "m-" + i.ToString(CultureInfo.InvariantCulture);

                    // The same id until it is acknowledged: a retry after a failure must never store it twice.
                    while (!stop.IsCancellationRequested)
                    {
                        try
                        {
                            var stored = await store.AddMessageAsync(new ChatMessage { Id = id, SessionId = "s-1", Sender = "agent", Content = "tick" }, stop.Token);
                            acknowledged[id] = stored.Sequence;
                            if (killed.Task.IsCompleted && Interlocked.Increment(ref acknowledgedAfterFailover) >= AcknowledgedAfterFailover)
                            {
                                return;
                            }

                            break;
                        }
                        catch (StoreUnavailableException ex)
                        {
                            failures.Add(ex);
                            await Task.Delay(50, CancellationToken.None); // a backoff, as an application's retry would have
                        }
                        catch (OperationCanceledException) when (stop.IsCancellationRequested)
                        {
                            return;
                        }
                    }
                }
            },
            CancellationToken.None);

        await RedisReplicatedDeployment.WaitUntilAsync(() => Task.FromResult(acknowledged.Count >= AcknowledgedBeforeKill || writer.IsCompleted), "the first appends");
        var oldPrimaryPort = deployment.Primary.Port;
        deployment.Primary.Kill();
        killed.SetResult();

        // The Sentinel promotes the replica; the killed node then rejoins as the new primary's replica (an operator's
        // step), so MinReplicas = 1 can be met again. The application is not restarted.
        var newPrimaryPort = 0;
        await RedisReplicatedDeployment.WaitUntilAsync(
            async () => (newPrimaryPort = await deployment.CurrentPrimaryPortAsync()) is not 0 && newPrimaryPort != oldPrimaryPort,
            "the Sentinel to promote the replica");
        newPrimaryPort.Should().Be(deployment.Replicas[0].Port);
        _rejoined = await RedisServerProcess.StartAsync(
            oldPrimaryPort, "--repl-diskless-sync-delay", "0", "--appendonly", "no", "--replicaof", "127.0.0.1", newPrimaryPort.ToString(CultureInfo.InvariantCulture));

        await writer;
        clock.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{acknowledged.Count} acknowledged ({acknowledgedAfterFailover} after the kill) in {clock.Elapsed.TotalSeconds:F1} s; failures: {Describe(failures)}");
        acknowledgedAfterFailover.Should().BeGreaterThanOrEqualTo(AcknowledgedAfterFailover, "appends resume on the same instance after the failover (failures: {0})", Describe(failures));
        failures.Should().AllBeAssignableTo<StoreUnavailableException>();

        // Read the new primary alone: every acknowledged message with the sequence it was acknowledged with, and
        // sequences 1..n with no gap or duplicate.
        await using var check = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = deployment.Replicas[0].EndPoint,
        });
        var stored = (await check.GetMessagesAsync("s-1", MessageQuery.MaxLimit, Ct)).ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
        foreach (var (id, sequence) in acknowledged)
        {
            stored.Should().ContainKey(id).WhoseValue.Should().Be(sequence, "acknowledged message {0} is on the new primary", id);
        }

        stored.Values.Order().Should().Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i));
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30));
    }

    private static string Describe(IEnumerable<Exception> failures) =>
        string.Join("; ", failures.GroupBy(f => f.GetType().Name + ": " + f.Message[..Math.Min(80, f.Message.Length)]).Select(g => $"{g.Count()} × {g.Key}"));
}

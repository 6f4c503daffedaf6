using System.Text;
using FluentAssertions;
using Multichat.Persistence.Internal;
using Multichat.Persistence.Tests.Infrastructure;
using static Multichat.Persistence.Tests.Stores.Json.JsonFaultChecks;
using static Multichat.Persistence.Tests.Stores.Json.JsonFaultScenarios;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// Issue #9, after SQLite's I/O-error tests: each write path of the Json store runs once to record the fault points it
/// reaches (<see cref="Multichat.Persistence.Stores.Json.JsonFaultPoints"/>), then once more for EVERY k with the k-th
/// point throwing an IOException. Afterwards, on the same instance and again after reopening: the caller saw a
/// StoreUnavailableException (or nothing, where the step's failure is harmless), every acknowledged message is there
/// with its sequence, a retry of the same ids stores each once, a new message gets a new sequence, the listing agrees
/// with the records, and the files pass <see cref="JsonFaultChecks.Integrity"/>.
/// </summary>
public sealed class JsonStoreInjectedFaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, Durability> Cases()
    {
        var data = new TheoryData<string, Durability>();
        foreach (var name in JsonFaultScenarios.All.Keys)
        {
            data.Add(name, Durability.Normal);
        }

        // Full adds the log's fsync step (json.log.after-flush); the other paths reach the same points in both modes.
        foreach (var name in new[] { "append", "batch" })
        {
            data.Add(name, Durability.Full);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WritePath_IoFaultAtEveryPoint_KeepsAcknowledgedDataAndRetriesStoreNothingTwice(string operation, Durability durability)
    {
        var scenario = JsonFaultScenarios.All[operation];
        var points = await RunAsync(scenario, durability, failAt: 0);
        points.Should().NotBeEmpty($"{operation} reaches fault points");
        var report = new StringBuilder(FormattableString.Invariant($"Json {operation} ({durability}): {points.Count} points reached: {string.Join(", ", points)}\n"));
        for (var k = 1; k <= points.Count; k++)
        {
            report.Append(FormattableString.Invariant($"  fault {k} at {points[k - 1]}: ")).Append((await RunAsync(scenario, durability, k))[0]).Append('\n');
        }

        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
    }

    /// <summary>failAt 0: records the points the operation reaches; else fails the failAt-th and checks. Returns the points, or the outcome as the only item.</summary>
    private static async Task<List<string>> RunAsync(Scenario scenario, Durability durability, int failAt)
    {
        using var folder = new JsonTestFolder();
        var faults = new InjectedIoFaults();

        // Checkpoints also run when a lease ends on the lease keeper's thread (Durability.Full), at moments no test
        // controls: only the checkpoint scenario, which checkpoints at dispose, counts them.
        var hook = new FaultInjection(point =>
        {
            if (scenario.Checkpoints || !point.StartsWith("json.checkpoint.", StringComparison.Ordinal))
            {
                faults.Injection.Reach(point);
            }
        });
        var run = new FaultRun(folder, () => Open(folder, durability, scenario, hook));
        try
        {
            await scenario.Setup(run);

            // An application that listed its sessions before: the instance's cached catalog must follow the failure.
            await ListedAsync(run.Store);
            if (failAt == 0)
            {
                faults.Trace();
            }
            else
            {
                faults.FailAt(failAt);
            }

            Exception? error = null;
            try
            {
                await scenario.Act(run);
            }
            catch (Exception ex)
            {
                error = ex;
            }

            if (failAt == 0)
            {
                error.Should().BeNull();
                return [.. faults.Reached];
            }

            var what = $"{scenario.Name} ({durability}) failing at point {failAt}, {faults.Fired}";
            faults.Fired.Should().NotBeNull(what);
            if (error is not null && error is not StoreUnavailableException)
            {
                throw new InvalidOperationException($"{what}: the caller got {error.GetType().Name}, not a StoreUnavailableException", error);
            }

            if (!run.Disposed)
            {
                await scenario.Verify(run, $"{what}, same instance");
                await LimitHoldsAsync(run, scenario, durability, $"{what}, same instance");
                await run.Store.DisposeAsync();
            }

            run.Store = Open(folder, durability, scenario, null);
            await scenario.Verify(run, $"{what}, reopened");
            await LimitHoldsAsync(run, scenario, durability, $"{what}, reopened");
            var health = await run.Store.CheckHealthAsync(Ct);
            if (!scenario.Degraded)
            {
                health.Status.Should().Be(StoreHealthStatus.Healthy, $"{what}: {health.Description}");
            }

            await run.Store.DisposeAsync();

            Integrity(folder.Root).Should().BeEmpty(what);
            return [(error is null ? "no error (the failed step only shortens recovery)" : error.GetType().Name) + (run.Outcome is null ? "" : $"; {run.Outcome}")];
        }
        finally
        {
            await run.Store.DisposeAsync();
        }
    }

    /// <summary>The session count is right: on the instance under test when it keeps one, else on a second one that does.</summary>
    private static async Task LimitHoldsAsync(FaultRun run, Scenario scenario, Durability durability, string because)
    {
        if (scenario.LimitCheck == 0)
        {
            return;
        }

        // An evicting instance lets every create in: the count is checked by one that refuses.
        if (scenario.MaxSessions > 0 && scenario.SessionPolicy == SessionLimitPolicy.Reject)
        {
            await SessionLimitHoldsAsync(run.Store, scenario.LimitCheck, because);
            return;
        }

        await using var counted = Open(run.Folder, durability, scenario with { MaxSessions = scenario.LimitCheck, SessionPolicy = SessionLimitPolicy.Reject }, null);
        await SessionLimitHoldsAsync(counted, scenario.LimitCheck, because);
    }

    private static SessionPersistence Open(JsonTestFolder folder, Durability durability, Scenario scenario, FaultInjection? hook)
    {
        var options = folder.Options(durability);
        options.FaultInjection = hook;
        if (scenario.MaxSessions > 0)
        {
            options.MaxSessions = scenario.MaxSessions;
            options.SessionLimitPolicy = scenario.SessionPolicy;
        }

        if (scenario.MaxMessages > 0)
        {
            options.MaxMessagesPerSession = scenario.MaxMessages;
        }

        return SessionPersistence.Create(options);
    }
}

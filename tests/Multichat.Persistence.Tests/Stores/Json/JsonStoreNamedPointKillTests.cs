using System.Globalization;
using System.Text;
using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using static Multichat.Persistence.Tests.Stores.Json.JsonFaultChecks;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// Issue #9: a TestWorker process killed (SIGKILL) at a named fault point of each Json write path, then the store
/// reopened here and checked as after an injected I/O error (<see cref="JsonFaultChecks"/>). Each operation is traced
/// once to learn the points it reaches (and how often); in the normal suite every distinct point is killed at once,
/// at an occurrence picked by a seed (MULTICHAT_FAULT_SEED, default fixed); with MULTICHAT_FAULT_ROUNDS above that
/// count, that many kills, up to every occurrence of every point.
/// </summary>
public sealed class JsonStoreNamedPointKillTests
{
    private const string S = "s";
    private const string Prefix = "w-";

    /// <summary>The worker's operation and count per write path; the parent seeds the session as <see cref="SetupAsync"/> says.</summary>
    private static readonly (string Name, string Operation, int Count)[] Operations =
    [
        ("append", "append", 3), ("append, Full", "append", 3), ("batch", "batch:3", 2), ("trim", "trim:2", 5),
        ("update", "update", 2), ("delete", "delete", 3), ("import", "import", 3),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteWorker_KilledAtNamedPoints_LeavesEveryAcknowledgedWriteAndRetriesStoreNothingTwice()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_SEED"), out var s) ? s : 9;
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), out var r) && r > 0 ? r : 0;
        var traces = await Task.WhenAll(Operations.Select(TraceAsync));
        var occurrences = new List<(string Operation, string Point, int Hit)>();
        for (var i = 0; i < Operations.Length; i++)
        {
            traces[i].Should().NotBeEmpty($"{Operations[i].Name} reaches fault points");
            var hits = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var point in traces[i])
            {
                hits[point] = hits.GetValueOrDefault(point) + 1;
                occurrences.Add((Operations[i].Name, point, hits[point]));
            }
        }

        // Every distinct point once, at a seeded occurrence; then, when asked for more rounds, more occurrences. A
        // checkpoint runs when the lock is let go after an idle moment, so how often a run reaches its points depends on
        // timing: only their first occurrence is sure to come again in the killed run.
        var random = new Random(seed);
        occurrences.RemoveAll(o => o.Hit > 1 && o.Point.StartsWith("json.checkpoint.", StringComparison.Ordinal));
        var chosen = occurrences.GroupBy(o => o.Point).Select(g => g.ElementAt(random.Next(g.Count()))).ToList();
        var rest = occurrences.Except(chosen).OrderBy(_ => random.Next()).ToList();
        chosen.AddRange(rest.Take(Math.Max(0, rounds - chosen.Count)));

        var results = new List<string>();
        var failures = new List<string>();
        using var parallel = new SemaphoreSlim(3);
        await Task.WhenAll(chosen.Select(async kill =>
        {
            await parallel.WaitAsync(Ct);
            try
            {
                var outcome = await KillAndCheckAsync(kill.Operation, kill.Point, kill.Hit);
                lock (results)
                {
                    results.Add($"{kill.Operation} killed at {kill.Point}#{kill.Hit}: {outcome}");
                }
            }
            catch (Exception ex)
            {
                lock (results)
                {
                    failures.Add($"{kill.Operation} killed at {kill.Point}#{kill.Hit}: {ex.GetType().Name}: {ex.Message}");
                }
            }
            finally
            {
                parallel.Release();
            }
        }));

        var report = new StringBuilder(FormattableString.Invariant(
            $"Json named-point kills (seed {seed}): {chosen.Count} of {occurrences.Count} occurrences, {chosen.Select(c => c.Point).Distinct().Count()} distinct points\n"));
        results.Sort(StringComparer.Ordinal);
        results.ForEach(line => report.Append("  ").Append(line).Append('\n'));
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        failures.Should().BeEmpty(report.ToString());
    }

    private static async Task<List<string>> TraceAsync((string Name, string Operation, int Count) operation)
    {
        using var folder = new JsonTestFolder();
        await SetupAsync(folder, operation.Name);
        using var worker = StartWorker(folder, operation.Name, "--trace");
        (await worker.WaitForExitAsync(TimeSpan.FromSeconds(120))).Should().Be(0, worker.StandardError);
        return [.. worker.PointsReached];
    }

    private static async Task<string> KillAndCheckAsync(string operation, string point, int hit)
    {
        using var folder = new JsonTestFolder();
        var seeded = await SetupAsync(folder, operation);
        using var worker = StartWorker(folder, operation, "--crash-at", FormattableString.Invariant($"{point}#{hit}"));
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(120));
        worker.Crashed.Should().BeTrue($"the worker reaches {point} {hit} times ({worker.StandardError})");
        var what = FormattableString.Invariant($"{operation} killed at {point}#{hit}");
        var acknowledged = new Dictionary<string, long>(seeded, StringComparer.Ordinal);
        foreach (var (id, sequence) in worker.Acknowledged)
        {
            acknowledged[id] = sequence;
        }

        string outcome;
        await using (var store = SessionPersistence.Create(folder.Options(operation.EndsWith(", Full", StringComparison.Ordinal) ? Durability.Full : Durability.Normal)))
        {
            outcome = operation switch
            {
                "append" or "append, Full" => await CheckAppendAsync(store, acknowledged, [Id(worker.Acknowledged.Count)], what),
                "batch" => await CheckAppendAsync(store, acknowledged, [.. Enumerable.Range(worker.Acknowledged.Count, 3).Select(Id)], what),
                "trim" => await CheckTrimAsync(store, worker, acknowledged, what),
                "update" => await CheckUpdateAsync(store, worker, what),
                "delete" => await CheckDeleteAsync(store, worker, acknowledged, what),
                _ => await CheckImportAsync(store, worker, acknowledged, what),
            };
            var health = await store.CheckHealthAsync(Ct);
            health.Status.Should().Be(StoreHealthStatus.Healthy, $"{what}: {health.Description}");
        }

        Integrity(folder.Root).Should().BeEmpty(what);
        return outcome;
    }

    /// <summary>Creates the session (import replaces it) and seeds it; returns the messages seeded.</summary>
    private static async Task<Dictionary<string, long>> SetupAsync(JsonTestFolder folder, string operation)
    {
        await using var store = SessionPersistence.Create(folder.Options());
        await store.CreateSessionAsync(S, ["a"], "t", cancellationToken: Ct);
        if (operation is "trim" or "update")
        {
            return [];
        }

        var stored = await store.AddMessagesAsync(S, [.. Enumerable.Range(1, 3).Select(i => Message(S, $"p-{i}"))], Ct);
        return stored.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
    }

    private static TestWorkerProcess StartWorker(JsonTestFolder folder, string name, params string[] options)
    {
        var (_, operation, count) = Operations.Single(o => o.Name == name);
        string[] durability = name.EndsWith(", Full", StringComparison.Ordinal) ? ["--durability", "Full"] : [];
        return TestWorkerProcess.Start(["write", "Json", folder.Root, S, Prefix, operation, count.ToString(CultureInfo.InvariantCulture), .. durability, .. options]);
    }

    private static async Task<string> CheckAppendAsync(SessionPersistence store, Dictionary<string, long> acknowledged, List<string> inFlight, string what)
    {
        var before = (await StoredMessages.ReadAllAsync(store, S, Ct)).Select(m => m.Id).ToHashSet();
        var kept = inFlight.Count(before.Contains);
        await SessionAsync(store, S, acknowledged, inFlight, acknowledged.Values.Max(), what);
        return kept == 0 ? "in-flight write not stored" : FormattableString.Invariant($"{kept} of {inFlight.Count} in-flight messages stored");
    }

    private static async Task<string> CheckTrimAsync(SessionPersistence store, TestWorkerProcess worker, Dictionary<string, long> acknowledged, string what)
    {
        var present = (await StoredMessages.ReadAllAsync(store, S, Ct)).Select(m => m.Id).ToHashSet();
        var trimmable = Enumerable.Range(0, 3).Select(Id).ToList();
        var trimmedAcknowledged = worker.Events.Any(e => e.StartsWith("trimmed ", StringComparison.Ordinal));
        var appendsDone = worker.Acknowledged.Count >= 5;
        var left = trimmable.Count(present.Contains);
        if (trimmedAcknowledged)
        {
            left.Should().Be(0, $"the trim returned ({what})");
        }
        else if (appendsDone)
        {
            left.Should().BeOneOf([0, 3], $"a trim removes all of the oldest or none ({what})");
        }

        var mustHave = acknowledged.Where(a => present.Contains(a.Key) || !trimmable.Contains(a.Key)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        string[] inFlight = appendsDone ? [Prefix + "after"] : [Id(worker.Acknowledged.Count)];
        await SessionAsync(store, S, mustHave, inFlight, acknowledged.Count > 0 ? acknowledged.Values.Max() : 0, what);
        return !appendsDone ? "killed while appending" : left == 0 ? "trimmed" : "not trimmed";
    }

    private static async Task<string> CheckUpdateAsync(SessionPersistence store, TestWorkerProcess worker, string what)
    {
        // Created at version 1 with title "t"; the i-th update (from 0) makes version i + 2 with title "title i".
        var acknowledgedVersion = worker.Events.Where(e => e.StartsWith("updated ", StringComparison.Ordinal)).Select(e => long.Parse(e["updated ".Length..], CultureInfo.InvariantCulture)).DefaultIfEmpty(1).Max();
        var session = (await store.GetSessionAsync(S, Ct))!;
        session.Version.Should().BeOneOf([acknowledgedVersion, acknowledgedVersion + 1], what);
        session.Title.Should().Be(session.Version == 1 ? "t" : FormattableString.Invariant($"title {session.Version - 2}"), $"the title matches its version ({what})");
        (await store.UpdateSessionAsync(session with { Title = "again" }, Ct)).Version.Should().Be(session.Version + 1, what);
        await SessionAsync(store, S, new Dictionary<string, long>(), [], 0, what);
        return session.Version == acknowledgedVersion ? "in-flight update not stored" : "in-flight update stored";
    }

    private static async Task<string> CheckDeleteAsync(SessionPersistence store, TestWorkerProcess worker, Dictionary<string, long> acknowledged, string what)
    {
        var deletedAcknowledged = worker.Events.Contains("deleted");
        var exists = await store.GetSessionAsync(S, Ct) is not null;
        if (exists)
        {
            deletedAcknowledged.Should().BeFalse($"the delete returned ({what})");
            var inFlight = worker.Acknowledged.Count < 3 ? new[] { Id(worker.Acknowledged.Count) } : [];
            await SessionAsync(store, S, acknowledged, inFlight, acknowledged.Values.Max(), what);
            (await store.DeleteSessionAsync(S, Ct)).Should().BeTrue(what);
        }

        await AbsentAsync(store, S, what);
        await store.CreateSessionAsync(S, ["a"], cancellationToken: Ct);
        await SessionAsync(store, S, new Dictionary<string, long>(), [], 0, $"{what}, created again");
        return exists ? "not deleted" : "deleted";
    }

    private static async Task<string> CheckImportAsync(SessionPersistence store, TestWorkerProcess worker, Dictionary<string, long> acknowledged, string what)
    {
        var session = await store.GetSessionAsync(S, Ct);
        string outcome;
        if (session is null)
        {
            outcome = "absent";
            await AbsentAsync(store, S, what);
        }
        else if (session.Title == "t")
        {
            // The old session, not replaced yet: whole.
            outcome = "old session whole";
            worker.Events.Should().NotContain(e => e.StartsWith("imported", StringComparison.Ordinal), what);
            await SessionAsync(store, S, acknowledged, [], acknowledged.Values.Max(), what);
        }
        else
        {
            var messages = await StoredMessages.ReadAllAsync(store, S, Ct);
            messages.Count.Should().BeOneOf([0, 3], $"the imported record, then its messages in one write ({what})");
            outcome = FormattableString.Invariant($"imported record with {messages.Count} messages");
        }

        await store.ImportAsync(ImportItems(), replaceExisting: true, Ct);
        var imported = await StoredMessages.ReadAllAsync(store, S, Ct);
        imported.Select(m => (m.Id, m.Sequence)).Should().Equal(Enumerable.Range(0, 3).Select(i => (Id(i), (long)i + 1)), what);
        await SessionAsync(store, S, imported.ToDictionary(m => m.Id, m => m.Sequence), [], 3, what);
        return outcome;
    }

    /// <summary>What the worker's import writes (see WriteMode): the session, then messages w-0… at sequences 1….</summary>
    private static async IAsyncEnumerable<PortableItem> ImportItems()
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = S, Participants = [Prefix], CreatedAt = at, UpdatedAt = at, MessageCount = 3, LastSequence = 3, Version = 1,
        });
        for (var i = 0; i < 3; i++)
        {
            yield return PortableItem.ForMessage(Message(S, Id(i)) with { Sequence = i + 1, Timestamp = at.AddSeconds(i) });
        }

        await Task.CompletedTask;
    }

    private static string Id(int i) => Prefix + i.ToString(CultureInfo.InvariantCulture);
}

using System.Globalization;
using FluentAssertions;
using Multichat.Persistence.Stores.Redis;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A TestWorker <c>write</c> process killed (SIGKILL) at a named fault point of a write on the 3-primary cluster, the
/// process death between round trips that an in-process failure cannot show (nothing of the dying process runs
/// after the point). Afterwards: the session's keys agree, every acknowledged message is stored with its sequence, a
/// retry of the write from another process stores nothing twice, the count stays within its leases, and once the
/// dead process's leases expire the count is exact. A rotating subset of the cases runs by default (each a process
/// start); all of them when <c>MULTICHAT_FAULT_ROUNDS</c> is 10 or more.
/// </summary>
[Collection(RedisClusterGroup.Name)]
public sealed class RedisClusterWorkerKillTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private const int DefaultCases = 4;

    private static readonly (string Operation, int Count, string Point)[] AllCases =
    [
        ("append", 3, RedisFaultPoints.AppendBeforeScript + "#2"),
        ("append", 3, RedisFaultPoints.AppendAfterScript + "#2"),
        ("batch:3", 2, RedisFaultPoints.AppendAfterScript + "#2"),
        ("trim:2", 4, RedisFaultPoints.TrimBeforeScript),
        ("trim:2", 4, RedisFaultPoints.TrimAfterScript),
        ("update", 2, RedisFaultPoints.UpdateAfterScript + "#2"),
        ("delete", 2, RedisFaultPoints.DeleteBeforeLease),
        ("delete", 2, RedisFaultPoints.DeleteAfterLease),
        ("delete", 2, RedisFaultPoints.DeleteAfterScript),
        ("delete", 2, RedisFaultPoints.DeleteAfterSettle),
        ("import", 3, RedisFaultPoints.ImportSessionAfterLease),
        ("import", 3, RedisFaultPoints.ImportSessionAfterScript),
        ("import", 3, RedisFaultPoints.ImportSessionAfterSettle),
        ("import", 3, RedisFaultPoints.ImportMessagesBeforeScript),
        ("import", 3, RedisFaultPoints.ImportMessagesAfterScript),
    ];

    private readonly string _prefix = "k" + Guid.NewGuid().ToString("N")[..12] + ":";
    private SessionPersistence? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SessionPersistence Store => _store ??= SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Redis,
        ConnectionString = cluster.ConnectionString,
        RedisKeyPrefix = _prefix,
    });

    public ValueTask InitializeAsync()
    {
        cluster.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await cluster.DeleteKeysAsync(_prefix);
    }

    [Fact]
    public async Task Write_WorkerKilledAtAFaultPointOnACluster_KeepsAcknowledgedWritesAndTheCountWithinItsLeases()
    {
        var all = int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var rounds) && rounds >= 10;

        // Rotates by day, so every case runs within a few days of CI; the cases run are printed.
        var first = (DateTime.UtcNow.DayOfYear * DefaultCases) % AllCases.Length;
        var cases = all ? AllCases : Enumerable.Range(0, DefaultCases).Select(i => AllCases[(first + i) % AllCases.Length]).ToArray();
        var db = cluster.Admin.GetDatabase();
        var keys = new RedisKeys(_prefix);

        // Two workers at a time: each is a process start, the slow part.
        var outcomes = new List<string>();
        foreach (var pair in cases.Select((c, i) => (c, i)).Chunk(2))
        {
            outcomes.AddRange(await Task.WhenAll(pair.Select(p => RunCaseAsync(p.c, $"s-{p.i}"))));
        }

        await RedisStoreChecks.CheckCountBoundsAsync(db, keys, "after every kill and retry");
        await RedisStoreChecks.ExpireLeasesAndCheckExactCountAsync(cluster.ConnectionString, _prefix, db, keys);
        TestContext.Current.TestOutputHelper?.WriteLine($"{cases.Length} of {AllCases.Length} kill cases: {string.Join("; ", outcomes)}");
    }

    private static ChatMessage Message(string sessionId, string prefix, int i) =>
        new() { Id = $"{prefix}{i}", SessionId = sessionId, Sender = prefix, Content = $"message {i} from {prefix}" };

    private static async IAsyncEnumerable<PortableItem> ImportItems(string sessionId, string prefix, int count)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = sessionId, Participants = [prefix], CreatedAt = at, UpdatedAt = at, MessageCount = count, LastSequence = count, Version = 1,
        });
        for (var i = 0; i < count; i++)
        {
            yield return PortableItem.ForMessage(Message(sessionId, prefix, i) with { Sequence = i + 1, Timestamp = at.AddSeconds(i) });
        }

        await Task.CompletedTask;
    }

    private async Task<string> RunCaseAsync((string Operation, int Count, string Point) kill, string session)
    {
        const string Prefix = "p-";
        var db = cluster.Admin.GetDatabase();
        var keys = new RedisKeys(_prefix);
        if (kill.Operation != "import")
        {
            await Store.CreateSessionAsync(session, [Prefix], cancellationToken: Ct);
        }

        var because = $"{kill.Operation} killed at {kill.Point}";
        using var worker = TestWorkerProcess.Start(
            "write", "Redis", cluster.ConnectionString, session, Prefix, kill.Operation, kill.Count.ToString(CultureInfo.InvariantCulture),
            "--crash-at", kill.Point, "--redis-prefix", _prefix);
        await worker.WaitForExitAsync(TimeSpan.FromMinutes(2));
        worker.Crashed.Should().BeTrue("the worker reached {0}: {1}", kill.Point, worker.StandardError);

        var acknowledged = worker.Acknowledged;
        var stored = await RedisStoreChecks.CheckSessionAsync(Store, db, keys, session, because);
        var byId = (stored ?? []).ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
        if (kill.Operation is not ("delete" or "trim:2"))
        {
            acknowledged.Where(a => !byId.TryGetValue(a.Id, out var sequence) || sequence != a.Sequence).Should().BeEmpty("every acknowledged message is stored ({0})", because);
        }

        await RedisStoreChecks.CheckCountBoundsAsync(db, keys, because);

        // Another process finishes the write with the same ids.
        switch (kill.Operation)
        {
            case "append":
            case "batch:3":
            {
                var total = kill.Operation == "append" ? kill.Count : 3 * kill.Count;
                var again = await Store.AddMessagesAsync(session, Enumerable.Range(0, total).Select(i => Message(session, Prefix, i)).ToArray(), Ct);
                again.Where(m => byId.ContainsKey(m.Id)).Select(m => m.Sequence).Should().Equal(again.Where(m => byId.ContainsKey(m.Id)).Select(m => byId[m.Id]), because);
                break;
            }

            case "trim:2":
                await Store.TrimMessagesAsync(session, 2, Ct);
                break;
            case "update":
                break;
            case "delete":
                await Store.DeleteSessionAsync(session, Ct);
                break;
            default:
                await Store.ImportAsync(ImportItems(session, Prefix, kill.Count), replaceExisting: true, cancellationToken: Ct);
                break;
        }

        var after = await RedisStoreChecks.CheckSessionAsync(Store, db, keys, session, because + ", then finished");
        switch (kill.Operation)
        {
            case "append":
            case "batch:3":
                after!.Select(m => m.Id).Should().Equal(Enumerable.Range(0, kill.Operation == "append" ? kill.Count : 3 * kill.Count).Select(i => $"{Prefix}{i}"), because);
                after!.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, after!.Count).Select(i => (long)i), because);
                break;
            case "trim:2":
                after!.Select(m => m.Sequence).Should().Equal([kill.Count - 1L, kill.Count], because);
                break;
            case "update":
                (await Store.GetSessionAsync(session, Ct))!.Version.Should().Be(3, "the second update was stored before the kill ({0})", because);
                break;
            case "delete":
                after.Should().BeNull(because);
                break;
            default:
                after!.Select(m => (m.Id, m.Sequence)).Should().Equal(Enumerable.Range(0, kill.Count).Select(i => ($"{Prefix}{i}", i + 1L)), because);
                break;
        }

        if (after is not null)
        {
            var last = (await Store.GetSessionAsync(session, Ct))!.LastSequence;
            (await Store.AddMessageAsync(Message(session, "next-", 0), Ct)).Sequence.Should().Be(last + 1, "a sequence is never reused ({0})", because);
        }

        return $"{because}: {acknowledged.Count} acknowledged, {stored?.Count.ToString(CultureInfo.InvariantCulture) ?? "no session"} stored at the kill";
    }
}

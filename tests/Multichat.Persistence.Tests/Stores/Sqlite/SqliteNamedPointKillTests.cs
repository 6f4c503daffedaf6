using System.Globalization;
using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// SQLite's crash tests at the store's named steps: a TestWorker runs one kind of write (appends, batches, a trim, title
/// updates, a delete, an import that replaces a session) and SIGKILLs itself at a chosen fault point (its n-th hit),
/// inside the transaction or just after its commit. This process then reopens the file and checks: nothing acknowledged
/// is lost, a batch or an import chunk is there whole or not at all, a trim or an update or a delete happened or not
/// (and happened exactly when the kill came after its commit), integrity_check ok, and retrying with the same ids stores
/// each once. The normal suite kills once at every distinct point (a seeded hit); <c>MULTICHAT_FAULT_ROUNDS</c> set
/// (any value above 1) kills at every hit of every point of every write.
/// </summary>
public sealed class SqliteNamedPointKillTests(ITestOutputHelper output)
{
    private const string Session = "s";
    private const int BatchSize = 4;
    private const int TrimKeep = 3;

    /// <summary>Each write the worker runs, with its count; the order decides which write covers a point shared by several.</summary>
    private static readonly (string Operation, int Count)[] Writes =
        [("batch:" + BatchSize, 3), ("trim:" + TrimKeep, 6), ("import", 5), ("update", 3), ("delete", 3), ("append", 3)];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Write_WorkerKilledAtANamedFaultPoint_KeepsEveryAcknowledgedWriteWholeAndStoresNothingTwice()
    {
        var seed = SqliteFaultRounds.Seed();
        var everyHit = SqliteFaultRounds.Get(normal: 1) > 1;
        var random = new Random(seed);

        // Trace every write once (two workers at a time: each start costs the better part of a second).
        var traces = await InParallelAsync(Writes, write => RunAsync(write.Operation, write.Count, crashAt: null));
        var kills = new List<(string Operation, int Count, string Point, int Hit)>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        for (var w = 0; w < Writes.Length; w++)
        {
            var (operation, count) = Writes[w];
            foreach (var group in traces[w].GroupBy(p => p, StringComparer.Ordinal))
            {
                var hits = group.Count();
                if (everyHit)
                {
                    kills.AddRange(Enumerable.Range(1, hits).Select(hit => (operation, count, group.Key, hit)));
                }
                else if (covered.Add(group.Key))
                {
                    kills.Add((operation, count, group.Key, random.Next(1, hits + 1)));
                }
            }
        }

        var outcomes = await InParallelAsync(kills, kill => RunAsync(kill.Operation, kill.Count, $"{kill.Point}#{kill.Hit}"));
        for (var i = 0; i < kills.Count; i++)
        {
            output.WriteLine($"{kills[i].Operation} killed at {kills[i].Point}#{kills[i].Hit}: {string.Join(' ', outcomes[i])}");
        }

        output.WriteLine(
            $"seed {seed}: {kills.Count} kills at {kills.Select(k => k.Point).Distinct().Count()} distinct points of {Writes.Length} writes " +
            $"({traces.Sum(t => t.Count)} points reached by the traced runs); every acknowledged write kept whole, integrity ok, retries stored nothing twice");
    }

    /// <summary>Seeds a fresh file, runs the worker (killed at <paramref name="crashAt"/>), checks the file; returns the traced points or what the check found.</summary>
    private static async Task<IReadOnlyList<string>> RunAsync(string operation, int count, string? crashAt)
    {
        var folder = SqliteTestFolder.Create();
        try
        {
            await using (var parent = SqliteFaultChecks.Open(folder))
            {
                await parent.CreateSessionAsync(Session, ["w"], cancellationToken: Ct);
                if (operation == "import")
                {
                    // The import replaces this session: a kill inside it must leave the old one or the new one.
                    await parent.AddMessagesAsync(Session, [Message("old1"), Message("old2")], Ct);
                }
            }

            string[] arguments = ["write", "Sqlite", folder, Session, "w", operation, count.ToString(CultureInfo.InvariantCulture), crashAt is null ? "--trace" : "--crash-at", crashAt ?? "--trace"];
            using var worker = TestWorkerProcess.Start(crashAt is null ? arguments[..^1] : arguments);
            var exit = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
            if (crashAt is null)
            {
                exit.Should().Be(0, worker.StandardError);
                return worker.PointsReached;
            }

            worker.Crashed.Should().BeTrue($"the worker reaches {crashAt} ({worker.StandardError})");
            var point = crashAt.Split('#')[0];
            var because = $"{operation} killed at {crashAt}";
            SqliteFaultChecks.FileShouldBeConsistent(folder);
            await using var store = SqliteFaultChecks.Open(folder);
            return await CheckAsync(store, folder, operation, count, point, worker, because);
        }
        finally
        {
            SqliteTestFolder.Delete(folder);
        }
    }

    private static async Task<IReadOnlyList<string>> CheckAsync(
        SessionPersistence store, string folder, string operation, int count, string point, TestWorkerProcess worker, string because)
    {
        var acked = worker.Acknowledged;
        var committed = SqliteFaultChecks.AfterCommit(point);
        var closing = point.StartsWith("sqlite.close.", StringComparison.Ordinal);
        var rows = await store.GetSessionAsync(Session, Ct) is null ? [] : await StoredMessages.ReadAllAsync(store, Session, Ct);
        var stored = rows.ToDictionary(m => m.Id, m => m.Sequence);
        // A trim removes acknowledged messages on purpose: what it kept is checked below.
        var trimmedAway = worker.Events.Any(e => e.StartsWith("trimmed ", StringComparison.Ordinal)) || (committed && point.StartsWith("sqlite.trim.", StringComparison.Ordinal));
        var deletedAway = operation == "delete" && await store.GetSessionAsync(Session, Ct) is null;
        foreach (var (id, sequence) in acked.Where(a => !deletedAway && (!trimmedAway || a.Sequence > count - TrimKeep)))
        {
            stored.Should().ContainKey(id, because).WhoseValue.Should().Be(sequence, because);
        }

        string outcome;
        switch (operation.Split(':')[0])
        {
            case "batch":
            case "append":
                // The write in flight is there whole exactly when the kill came after its commit.
                var size = operation == "append" ? 1 : BatchSize;
                StoredMessages.ShouldBeGapless(rows);
                rows.Should().HaveCount(acked.Count + (committed && !closing ? size : 0), because);
                var inFlight = Enumerable.Range(acked.Count, size).Select(i => $"w{i}").ToList();
                await RetryAsync(store, [.. acked.Select(a => a.Id), .. inFlight], because);
                outcome = $"{acked.Count} acked, {rows.Count - acked.Count} committed unacknowledged";
                break;
            case "trim":
                // count appends (acked), the trim, one more append: the trim happened exactly when it printed or its commit was reached.
                var trimPoint = point.StartsWith("sqlite.trim.", StringComparison.Ordinal);
                var trimmed = worker.Events.Any(e => e.StartsWith("trimmed ", StringComparison.Ordinal));
                var trimDone = trimmed || (committed && trimPoint);
                var appendsAcked = acked.Count(a => a.Id != "wafter");
                if (!trimDone)
                {
                    var appended = appendsAcked + (committed && !trimPoint ? 1 : 0);
                    rows.Should().HaveCount(appended, because);
                    StoredMessages.ShouldBeGapless(rows);
                    await RetryAsync(store, [.. Enumerable.Range(0, appended + (trimPoint ? 0 : 1)).Select(i => $"w{i}")], because);
                    var held = (await StoredMessages.ReadAllAsync(store, Session, Ct)).Count - 1; // less the fresh one RetryAsync appended
                    (await store.TrimMessagesAsync(Session, TrimKeep, Ct)).Should().Be(Math.Max(0, held + 1 - TrimKeep), because);
                }
                else
                {
                    var after = acked.Any(a => a.Id == "wafter") || (trimmed && committed) ? 1 : 0;
                    rows.Should().HaveCount(TrimKeep + after, because);
                    StoredMessages.ShouldBeGapless(rows, first: count - TrimKeep + 1);
                    (await store.TrimMessagesAsync(Session, TrimKeep + after, Ct)).Should().Be(0, because);
                    await RetryAsync(store, [.. rows.Select(m => m.Id), "wafter"], because);
                }

                outcome = $"{acked.Count} acked, trim {(trimDone ? "done" : "not done")}, {rows.Count} stored";
                break;
            case "update":
                var updates = worker.Events.Count(e => e.StartsWith("updated ", StringComparison.Ordinal));
                var version = (await store.GetSessionAsync(Session, Ct))!.Version;
                version.Should().Be(1 + updates + (committed && point.StartsWith("sqlite.update.", StringComparison.Ordinal) ? 1 : 0), because);
                var session = (await store.GetSessionAsync(Session, Ct))!;
                session.Title.Should().Be(version == 1 ? null : $"title {version - 2}", because);
                (await store.UpdateSessionAsync(session with { Title = "retried" }, Ct)).Version.Should().Be(version + 1);
                outcome = $"{updates} acknowledged updates, version {version}";
                break;
            case "delete":
                var deleted = committed && point.StartsWith("sqlite.delete.", StringComparison.Ordinal) || worker.Events.Contains("deleted");
                (await store.GetSessionAsync(Session, Ct) is null).Should().Be(deleted, because);
                if (!deleted)
                {
                    StoredMessages.ShouldBeGapless(rows);
                    rows.Should().HaveCount(acked.Count + (committed && point.StartsWith("sqlite.append.", StringComparison.Ordinal) ? 1 : 0), because);
                }

                (await store.DeleteSessionAsync(Session, Ct)).Should().Be(!deleted);
                outcome = deleted ? "deleted" : $"not deleted, {rows.Count} messages";
                break;
            default:
                // Import: the old session, the new one without its messages (its transaction committed, theirs not), or the new one whole.
                var imported = point switch
                {
                    _ when worker.Events.Any(e => e.StartsWith("imported ", StringComparison.Ordinal)) || point.StartsWith("sqlite.close.", StringComparison.Ordinal) => "new",
                    "sqlite.import-messages.after-commit" => "new",
                    "sqlite.import-session.after-commit" => "session only",
                    _ when point.StartsWith("sqlite.import-messages.", StringComparison.Ordinal) => "session only",
                    _ => "old",
                };
                rows.Select(m => (m.Id, m.Sequence)).Should().Equal(
                    imported switch
                    {
                        "old" => [("old1", 1L), ("old2", 2L)],
                        "session only" => [],
                        _ => Enumerable.Range(0, count).Select(i => ($"w{i}", (long)i + 1)),
                    },
                    because);
                var replay = await store.ImportAsync(ImportItems(count), replaceExisting: true, Ct);
                replay.Messages.Should().Be(count);
                (await StoredMessages.ReadAllAsync(store, Session, Ct)).Select(m => m.Id).Should().Equal(Enumerable.Range(0, count).Select(i => $"w{i}"));
                await RetryAsync(store, [.. Enumerable.Range(0, count).Select(i => $"w{i}")], because);
                outcome = imported;
                break;
        }

        SqliteFaultChecks.FileShouldBeConsistent(folder);
        return [outcome];
    }

    /// <summary>Re-sends every id: each is stored exactly once, and a new append gets a sequence above all of them.</summary>
    private static async Task RetryAsync(SessionPersistence store, IReadOnlyList<string> ids, string because)
    {
        foreach (var id in ids)
        {
            await store.AddMessageAsync(Message(id), Ct);
        }

        var rows = await StoredMessages.ReadAllAsync(store, Session, Ct);
        rows.Select(m => m.Id).Should().OnlyHaveUniqueItems(because).And.Contain(ids);
        var last = (await store.GetSessionAsync(Session, Ct))!.LastSequence;
        (await store.AddMessageAsync(Message("fresh"), Ct)).Sequence.Should().Be(last + 1, $"{because}: a sequence is never reused");
        StoredMessages.ShouldBeGapless(await StoredMessages.ReadAllAsync(store, Session, Ct), first: rows[0].Sequence);
    }

    private static ChatMessage Message(string id) => new() { Id = id, SessionId = Session, Sender = "w", Content = $"message {id}" };

    /// <summary>What the worker's import mode imports (see WriteMode): the session with prefix "w", then its messages.</summary>
    private static async IAsyncEnumerable<PortableItem> ImportItems(int count)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        yield return PortableItem.ForSession(new ChatSession
        {
            SessionId = Session, Participants = ["w"], CreatedAt = at, UpdatedAt = at, MessageCount = count, LastSequence = count, Version = 1,
        });
        for (var i = 0; i < count; i++)
        {
            yield return PortableItem.ForMessage(new ChatMessage
            {
                Id = $"w{i}", SessionId = Session, Sender = "w", Content = $"message {i} from w", Sequence = i + 1, Timestamp = at.AddSeconds(i),
            });
        }

        await Task.CompletedTask;
    }

    private static async Task<IReadOnlyList<T>> InParallelAsync<TItem, T>(IReadOnlyList<TItem> items, Func<TItem, Task<T>> run)
    {
        using var gate = new SemaphoreSlim(2);
        return await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync(Ct);
            try
            {
                return await run(item);
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}

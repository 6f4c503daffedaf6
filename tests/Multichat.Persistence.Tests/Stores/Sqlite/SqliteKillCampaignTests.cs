using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// A process-kill campaign in the spirit of SQLite's crash tests: a TestWorker appending to one session is SIGKILLed at
/// random moments (while it opens, inside a transaction, during a commit or a checkpoint) while this process batches,
/// trims, imports, updates and deletes in other sessions of the same file. Afterwards every acknowledged write is
/// there, sequences are gapless and never reused, the file passes <c>PRAGMA integrity_check</c>, and retrying every
/// id (the acknowledged ones and the one in flight at each kill) stores nothing twice.
/// </summary>
public sealed class SqliteKillCampaignTests(ITestOutputHelper output) : IDisposable
{
    private const int TrimLimit = 40;
    private const int BatchSize = 10;
    private const int ImportedMessages = 30;

    private static readonly string[] Kinds = ["batch", "trim", "import", "update+delete"];

    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writes_WorkerKilledAtRandomMomentsWhileThisProcessWrites_KeepEveryAcknowledgedWriteAndStoreNothingTwice()
    {
        var rounds = SqliteFaultRounds.Get(normal: 8);
        var seed = SqliteFaultRounds.Seed();
        var random = new Random(seed);
        await using var plain = Open();
        await using var limited = Open(maxMessagesPerSession: TrimLimit);
        foreach (var id in new[] { "crash", "batch", "trim", "meta" })
        {
            await plain.CreateSessionAsync(id, ["w"], cancellationToken: Ct);
        }

        var acknowledged = new List<(string Id, long Sequence)>();
        var inFlight = new List<string>();
        var batches = new List<IReadOnlyList<ChatMessage>>();
        var trims = new List<ChatMessage>();
        var imports = new List<string>();
        var updates = 0;
        var deletes = 0;
        var killedBeforeFirstAck = 0;
        for (var round = 0; round < rounds; round++)
        {
            var kind = Kinds[round % Kinds.Length];
            using var worker = TestWorkerProcess.Start("Sqlite", _folder, "crash", $"r{round}-", "forever");
            await worker.Ready.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            using var stop = new CancellationTokenSource();
            var local = round;
            var parent = Task.Run(
                async () =>
                {
                    for (var k = 0; !stop.IsCancellationRequested; k++)
                    {
                        switch (kind)
                        {
                            case "batch":
                                var batch = Enumerable.Range(0, BatchSize)
                                    .Select(j => new ChatMessage { Id = $"b{local}-{k}-{j}", SessionId = "batch", Sender = "w", Content = $"batch {k} item {j}" }).ToList();
                                batches.Add(await plain.AddMessagesAsync("batch", batch, Ct));
                                break;
                            case "trim":
                                trims.Add(await limited.AddMessageAsync(new ChatMessage { Id = $"t{local}-{k}", SessionId = "trim", Sender = "w", Content = $"trimmed {k}" }, Ct));
                                break;
                            case "import":
                                var imported = $"imp-{local}-{k}";
                                await ImportAsync(plain, imported);
                                imports.Add(imported);
                                break;
                            default:
                                var meta = (await plain.GetSessionAsync("meta", Ct))!;
                                await plain.UpdateSessionAsync(meta with { Title = $"round {local} step {k}" }, Ct);
                                updates++;
                                await plain.CreateSessionAsync($"tmp-{local}-{k}", ["w"], cancellationToken: Ct);
                                (await plain.DeleteSessionAsync($"tmp-{local}-{k}", Ct)).Should().BeTrue();
                                deletes++;
                                break;
                        }
                    }
                },
                Ct);

            // Odd rounds first wait for the worker to be appending, so a loaded machine still kills mid-stream.
            if (round % 2 == 1)
            {
                for (var waited = 0; worker.Acknowledged.Count == 0 && waited < 3000; waited++)
                {
                    await Task.Delay(10, Ct);
                }
            }

            await Task.Delay(random.Next(0, round % 2 == 1 ? 100 : 300), Ct);
            worker.KillHard();
            await stop.CancelAsync();
            await parent.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            var acks = worker.Acknowledged;
            acknowledged.AddRange(acks);
            inFlight.Add($"r{round}-{acks.Count}");
            killedBeforeFirstAck += acks.Count == 0 ? 1 : 0;
            output.WriteLine($"round {round} ({kind}): worker killed after {acks.Count} acknowledged appends");
        }

        SqliteTestFiles.IntegrityCheck(_folder).Should().Be("ok", $"seed {seed}");
        await using var reopened = Open();

        // The worker's session: every acknowledged append with its sequence, gapless, counters equal to the rows.
        var crash = await StoredMessages.ReadAllAsync(reopened, "crash", Ct);
        StoredMessages.ShouldBeGapless(crash);
        var stored = crash.ToDictionary(m => m.Id, m => m.Sequence);
        acknowledged.Should().AllSatisfy(ack => stored.Should().ContainKey(ack.Id).WhoseValue.Should().Be(ack.Sequence), $"seed {seed}");
        (await reopened.GetSessionAsync("crash", Ct))!.LastSequence.Should().Be(crash.Count);

        // This process's writes, made while the worker was killed around them.
        var batchRows = await StoredMessages.ReadAllAsync(reopened, "batch", Ct);
        StoredMessages.ShouldBeGapless(batchRows);
        batchRows.Select(m => (m.Id, m.Sequence)).Should().Equal(batches.SelectMany(b => b).Select(m => (m.Id, m.Sequence)));
        batches.Should().AllSatisfy(b => b.Select(m => m.Sequence).Should().Equal(Enumerable.Range(0, b.Count).Select(i => b[0].Sequence + i)));
        var trimRows = await StoredMessages.ReadAllAsync(reopened, "trim", Ct);
        var trimSession = (await reopened.GetSessionAsync("trim", Ct))!;
        trimSession.LastSequence.Should().Be(trims.Count);
        trimRows.Should().HaveCount(Math.Min(trims.Count, TrimLimit));
        StoredMessages.ShouldBeGapless(trimRows, first: trims.Count - trimRows.Count + 1);
        foreach (var imported in imports)
        {
            var rows = await StoredMessages.ReadAllAsync(reopened, imported, Ct);
            rows.Select(m => (m.Sequence, m.Id)).Should().Equal(Enumerable.Range(1, ImportedMessages).Select(i => ((long)i, $"{imported}-m{i}")));
        }

        (await reopened.GetSessionAsync("meta", Ct))!.Version.Should().Be(1 + updates);
        (await reopened.ListSessionsAsync(new SessionQuery { Limit = 1000 }, Ct)).Sessions.Should().NotContain(s => s.SessionId.StartsWith("tmp-", StringComparison.Ordinal));

        // Retrying every id: the acknowledged ones get their original sequence, the one in flight at a kill is stored
        // at most once (it may have committed without its acknowledgement reaching us).
        var committedUnacknowledged = inFlight.Count(stored.ContainsKey);
        foreach (var ack in acknowledged)
        {
            (await reopened.AddMessageAsync(Retry(ack.Id), Ct)).Sequence.Should().Be(ack.Sequence);
        }

        foreach (var id in inFlight)
        {
            var again = await reopened.AddMessageAsync(Retry(id), Ct);
            if (stored.TryGetValue(id, out var sequence))
            {
                again.Sequence.Should().Be(sequence);
            }
            else
            {
                again.Sequence.Should().BeGreaterThan(crash.Count, "a sequence is never reused");
            }
        }

        var afterRetry = await StoredMessages.ReadAllAsync(reopened, "crash", Ct);
        StoredMessages.ShouldBeGapless(afterRetry);
        afterRetry.Should().HaveCount(crash.Count + inFlight.Count - committedUnacknowledged);
        if (batches.Count > 0)
        {
            (await reopened.AddMessagesAsync("batch", batches[^1].Select(m => m with { Sequence = 0 }), Ct)).Select(m => m.Sequence)
                .Should().Equal(batches[^1].Select(m => m.Sequence));
            (await StoredMessages.ReadAllAsync(reopened, "batch", Ct)).Should().HaveCount(batchRows.Count);
        }

        SqliteTestFiles.IntegrityCheck(_folder).Should().Be("ok");
        output.WriteLine(
            $"seed {seed}: {rounds} kills ({killedBeforeFirstAck} before the first acknowledgement), {acknowledged.Count} acknowledged appends, " +
            $"{committedUnacknowledged} of {inFlight.Count} in-flight appends had committed unacknowledged; meanwhile {batches.Count} batches, " +
            $"{trims.Count} trimming appends, {imports.Count} imports, {updates} updates, {deletes} create+deletes; integrity ok, retries stored nothing twice");
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private static ChatMessage Retry(string id) => new() { Id = id, SessionId = "crash", Sender = "retry", Content = "retried" };

    private static async Task ImportAsync(SessionPersistence target, string sessionId)
    {
        await using var source = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await source.CreateSessionAsync(sessionId, ["w"], cancellationToken: Ct);
        await source.AddMessagesAsync(
            sessionId, Enumerable.Range(1, ImportedMessages).Select(i => new ChatMessage { Id = $"{sessionId}-m{i}", SessionId = sessionId, Sender = "w", Content = $"imported {i}" }), Ct);
        await target.ImportAsync(source.ExportAsync(Ct), cancellationToken: Ct);
    }

    private SessionPersistence Open(int? maxMessagesPerSession = null) => SessionPersistence.Create(new SessionPersistenceOptions
    {
        StorageType = StorageType.Sqlite,
        StoragePath = _folder,
        MaxMessagesPerSession = maxMessagesPerSession,
    });
}

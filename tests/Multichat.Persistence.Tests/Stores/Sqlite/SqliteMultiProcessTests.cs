using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// Real child processes writing one sessions.db: concurrent writers stay gapless and never see SQLITE_BUSY, and a
/// writer killed with SIGKILL at random moments loses nothing it acknowledged and leaves the file intact.
/// </summary>
public sealed class SqliteMultiProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = SqliteTestFolder.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddMessage_FourProcessesThousandEach_StoresExactly4000Gapless()
    {
        await using (var setup = Open())
        {
            await setup.CreateSessionAsync("shared", ["p"], cancellationToken: Ct);
        }

        var workers = Enumerable.Range(0, 4).Select(i => TestWorkerProcess.Start("Sqlite", _folder, "shared", $"p{i}-", "1000")).ToArray();
        try
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var exitCodes = await Task.WhenAll(workers.Select(w => w.WaitForExitAsync(TimeSpan.FromMinutes(4))));
            output.WriteLine($"4 x 1000 appends from 4 processes took {started.Elapsed.TotalSeconds:F1} s (process start included)");

            // A SQLITE_BUSY (or any exception) reaching a worker ends it with a non-zero code and a stack trace.
            exitCodes.Should().AllBeEquivalentTo(0, string.Join(Environment.NewLine, workers.Select(w => w.StandardError)));
            workers.Should().AllSatisfy(w => w.Acknowledged.Should().HaveCount(1000));
            await using var store = Open();
            var all = await StoredMessages.ReadAllAsync(store, "shared", Ct);
            all.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, 4000).Select(i => (long)i));
            all.Select(m => m.Id).Should().OnlyHaveUniqueItems();
            var stored = all.ToDictionary(m => m.Id, m => m.Sequence);
            workers.SelectMany(w => w.Acknowledged).Should().AllSatisfy(ack => stored[ack.Id].Should().Be(ack.Sequence));
            (await store.GetSessionAsync("shared", Ct))!.MessageCount.Should().Be(4000);

            // How much the writers overlapped (not asserted: a slow machine may start them one after another).
            var switches = all.Zip(all.Skip(1)).Count(pair => pair.First.Sender != pair.Second.Sender);
            output.WriteLine($"the writer changed {switches} times along the 4000 sequences");
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }

    [Fact]
    public async Task AddMessage_WriterKilledAtTwentyRandomMoments_KeepsEveryAcknowledgedMessageAndIntegrity()
    {
        await using (var setup = Open())
        {
            await setup.CreateSessionAsync("crash", ["w"], cancellationToken: Ct);
        }

        var seed = Environment.TickCount;
        var random = new Random(seed);
        var acknowledged = new List<(string Id, long Sequence)>();
        for (var round = 0; round < 20; round++)
        {
            using var worker = TestWorkerProcess.Start("Sqlite", _folder, "crash", $"r{round}-", "forever");
            await worker.Ready.WaitAsync(TimeSpan.FromSeconds(60), Ct);

            // The kill lands anywhere: while the store opens, inside a transaction, during a commit or a checkpoint.
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
            acknowledged.AddRange(worker.Acknowledged);
            output.WriteLine($"round {round}: killed after {worker.Acknowledged.Count} acknowledged appends");
        }

        SqliteTestFiles.IntegrityCheck(_folder).Should().Be("ok", $"seed {seed}");
        await using var store = Open();
        var all = await StoredMessages.ReadAllAsync(store, "crash", Ct);
        all.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), $"seed {seed}");
        var stored = all.ToDictionary(m => m.Id, m => m.Sequence);
        acknowledged.Should().NotBeEmpty();
        acknowledged.Should().AllSatisfy(ack => stored.Should().ContainKey(ack.Id).WhoseValue.Should().Be(ack.Sequence), $"seed {seed}");
        var session = await store.GetSessionAsync("crash", Ct);
        session!.MessageCount.Should().Be(all.Count);
        session.LastSequence.Should().Be(all.Count);
        SqliteTestFiles.IntegrityCheck(_folder).Should().Be("ok");
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    private SessionPersistence Open() =>
        SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = _folder });
}

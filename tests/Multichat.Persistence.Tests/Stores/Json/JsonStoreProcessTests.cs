using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>Several real processes on one Json store folder, and processes killed with SIGKILL mid-append.</summary>
public sealed class JsonStoreProcessTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task KilledWriter_TwentyTimes_KeepsEveryAcknowledgedMessageGaplessAndReopens()
    {
        await CreateSessionAsync("crash");
        var acknowledged = new Dictionary<string, long>(StringComparer.Ordinal);
        var random = new Random(20260126);

        for (var round = 0; round < 20; round++)
        {
            using (var worker = _folder.StartWorker("crash", $"r{round}-", "forever"))
            {
                await worker.Ready.WaitAsync(TimeSpan.FromSeconds(30), Ct);

                // Let it get some appends acknowledged, then kill it at a random moment of its write loop.
                await WaitForAcknowledgedAsync(worker, 1);
                await Task.Delay(random.Next(1, 60), Ct);
                worker.KillHard();
                worker.Acknowledged.Should().NotBeEmpty(worker.StandardError);
                foreach (var (id, sequence) in worker.Acknowledged)
                {
                    acknowledged.Add(id, sequence);
                }
            }

            await using var store = SessionPersistence.Create(_folder.Options());
            var all = await StoredMessages.ReadAllAsync(store, "crash", Ct);
            StoredMessages.ShouldBeGapless(all);
            var stored = all.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
            foreach (var (id, sequence) in acknowledged)
            {
                stored.Should().ContainKey(id).WhoseValue.Should().Be(sequence, "acknowledged message {0} must survive the kill of round {1}", id, round);
            }

            // Every acknowledged id is still idempotent, whatever the kill left in ids.idx: a retry returns the original.
            await ShouldStoreNothingOnRetryAsync(store, "crash", acknowledged);
            var session = (await store.GetSessionAsync("crash", Ct))!;
            session.MessageCount.Should().Be(all.Count, "retrying acknowledged ids after the kill of round {0} stores nothing", round);
            session.LastSequence.Should().Be(all[^1].Sequence);
        }

        await using var reopened = SessionPersistence.Create(_folder.Options());
        var last = (await reopened.GetSessionAsync("crash", Ct))!.LastSequence;
        (await reopened.AddMessageAsync(Message("crash", "after-the-campaign"), Ct)).Sequence.Should().Be(last + 1);
    }

    [Fact]
    public async Task FourProcesses_AppendingAThousandEach_StoreExactlyFourThousandGapless()
    {
        await CreateSessionAsync("shared");

        var workers = Enumerable.Range(0, 4).Select(w => _folder.StartWorker("shared", $"p{w}-", "1000")).ToList();
        try
        {
            foreach (var worker in workers)
            {
                (await worker.WaitForExitAsync(TimeSpan.FromSeconds(90))).Should().Be(0, worker.StandardError);
            }

            await using var store = SessionPersistence.Create(_folder.Options());
            var all = await StoredMessages.ReadAllAsync(store, "shared", Ct);
            all.Should().HaveCount(4000);
            StoredMessages.ShouldBeGapless(all);
            var stored = all.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
            foreach (var worker in workers)
            {
                worker.Acknowledged.Should().HaveCount(1000);
                worker.Acknowledged.Should().AllSatisfy(ack => stored[ack.Id].Should().Be(ack.Sequence));
            }

            await ShouldStoreNothingOnRetryAsync(store, "shared", stored);
            (await store.GetSessionAsync("shared", Ct))!.MessageCount.Should().Be(4000);
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task OtherProcessAppends_WarmListingAndStatisticsSeeIt()
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync("busy", ["alice"], cancellationToken: Ct);
        await store.CreateSessionAsync("idle", ["alice"], cancellationToken: Ct);
        var before = await store.ListSessionsAsync(new SessionQuery { Participant = "alice" }, Ct);
        before.Sessions.Select(s => s.SessionId).Should().Equal("idle", "busy");

        using (var worker = _folder.StartWorker("busy", "w-", "25"))
        {
            (await worker.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, worker.StandardError);
        }

        var after = await store.ListSessionsAsync(new SessionQuery { Participant = "alice" }, Ct);
        after.Sessions.Select(s => s.SessionId).Should().Equal("busy", "idle");
        after.Sessions[0].MessageCount.Should().Be(25);
        after.Sessions[0].LastSequence.Should().Be(25);
        (await store.GetStatisticsAsync(Ct)).MessageCount.Should().Be(25);
        (await store.GetMessagesAsync("busy", 1, Ct)).Single().Id.Should().Be("w-24");
    }

    private async Task CreateSessionAsync(string sessionId)
    {
        await using var store = SessionPersistence.Create(_folder.Options());
        await store.CreateSessionAsync(sessionId, ["a"], cancellationToken: Ct);
    }

    private static async Task ShouldStoreNothingOnRetryAsync(SessionPersistence store, string sessionId, IReadOnlyDictionary<string, long> acknowledged)
    {
        foreach (var chunk in acknowledged.Chunk(500))
        {
            var again = await store.AddMessagesAsync(sessionId, chunk.Select(a => Message(sessionId, a.Key)).ToArray(), Ct);
            again.Select(m => m.Sequence).Should().Equal(chunk.Select(a => a.Value));
        }
    }

    private static async Task WaitForAcknowledgedAsync(TestWorkerProcess worker, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (worker.Acknowledged.Count < count)
        {
            await Task.Delay(1, timeout.Token);
        }
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = id };
}

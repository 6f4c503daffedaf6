using FluentAssertions;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Protection;
using Multichat.Persistence.Tests.Infrastructure;
using static Multichat.Persistence.Tests.Infrastructure.ProtectionSettings;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>
/// <see cref="SessionPersistence.ReencryptAsync(IProgress{TransferProgress}?, CancellationToken)"/> on every store: the
/// issue's rotation acceptance (written under A, then B; ring {A, B} reads all, ring {B} fails on A's values until the
/// re-encryption, then reads all), writes that land while a session is rewritten are never lost, a second run is a
/// no-op, and an unopenable value stops the run by name. A store's class only points options at its storage.
/// </summary>
public abstract class ReencryptionTests : ReencryptionStoreTestBase
{
    [Fact]
    public async Task Reencrypt_AfterRotation_RingWithOnlyTheNewKeyReadsEverything()
    {
        var underA = Open(Both(KeyA));
        await underA.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"], "title of s-1", new Dictionary<string, string> { ["topic"] = "topic of s-1" }, Ct);
        await underA.CreateSessionAsync("s-2", ["Agent-1"], "title of s-2", cancellationToken: Ct);
        await underA.AddMessagesAsync("s-1", [Message("s-1", "a-1"), Message("s-1", "a-2"), Message("s-1", "a-3")], Ct);
        await underA.AddMessagesAsync("s-2", [Message("s-2", "a-1")], Ct);
        var underB = Open(Both(KeyB));
        await underB.AddMessagesAsync("s-1", [Message("s-1", "b-4"), Message("s-1", "b-5")], Ct);
        var s2 = (await underB.GetSessionAsync("s-2", Ct))!;
        await underB.UpdateSessionAsync(s2 with { Title = "title of s-2, under B" }, Ct);

        (await StoredMessages.ReadAllAsync(underB, "s-1", Ct)).Select(m => m.Content)
            .Should().Equal(["content of a-1", "content of a-2", "content of a-3", "content of b-4", "content of b-5"], "ring {A, B} reads both keys' values");
        var before = new[] { await SnapshotAsync(underB, "s-1"), await SnapshotAsync(underB, "s-2") };
        var onlyB = Open(OnlyB);
        var read = () => onlyB.GetMessagesAsync("s-1", 10, Ct);
        var failure = (await read.Should().ThrowAsync<DecryptionFailedException>()).Which;
        failure.KeyId.Should().Be(KeyA);
        failure.SessionId.Should().Be("s-1");
        failure.MessageId.Should().BeOneOf("a-1", "a-2", "a-3");
        await onlyB.Invoking(s => s.GetMessagesAsync("s-2", 10, Ct)).Should().ThrowAsync<DecryptionFailedException>();

        var report = await underB.ReencryptAsync(cancellationToken: Ct);

        report.Should().Be(new ReencryptionReport(SessionsRewritten: 2, SessionsAlreadyCurrent: 0, MessagesRewritten: 6, SessionsBusy: 0));
        report.IsComplete.Should().BeTrue();
        new[] { await SnapshotAsync(onlyB, "s-1"), await SnapshotAsync(onlyB, "s-2") }.Should().Equal(before, "ring {B} reads everything, unchanged");
        (await StoredKeyIdsAsync(underB, "s-1", "s-2")).Should().OnlyContain(k => k == KeyB, "every stored value is under the current key");
    }

    [Fact]
    public async Task Reencrypt_AppendBetweenReadAndSwap_IsKeptAndTheSessionIsRewrittenOnTheRetry()
    {
        var underA = Open(Both(KeyA));
        await underA.CreateSessionAsync("s-1", ["Agent-1"], "title", cancellationToken: Ct);
        await underA.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2"), Message("s-1", "m-3")], Ct);
        var underB = Open(Both(KeyB));
        var attempts = 0;

        var report = await underB.ReencryptAsync(progress: null, async (id, ct) =>
        {
            // Between the read (and spooling) and the swap: the replacement must see it and not commit.
            if (attempts++ == 0)
            {
                await underB.AddMessageAsync(Message(id, "late", "appended during the re-encryption"), ct);
            }
        }, Ct);

        attempts.Should().Be(2, "the first attempt conflicts, the second rewrites the session as it is now");
        report.Should().Be(new ReencryptionReport(1, 0, 4, 0));
        var messages = await StoredMessages.ReadAllAsync(Open(OnlyB), "s-1", Ct);
        messages.Select(m => m.Id).Should().Equal("m-1", "m-2", "m-3", "late");
        messages[^1].Sequence.Should().Be(4);
        messages[^1].Content.Should().Be("appended during the re-encryption");
        (await StoredKeyIdsAsync(underB, "s-1")).Should().OnlyContain(k => k == KeyB);
    }

    [Fact]
    public async Task Reencrypt_UpdateBetweenReadAndSwap_IsKept()
    {
        var underA = Open(Both(KeyA));
        await underA.CreateSessionAsync("s-1", ["Agent-1"], "title under A", cancellationToken: Ct);
        await underA.AddMessageAsync(Message("s-1", "m-1"), Ct);
        var underB = Open(Both(KeyB));
        var attempts = 0;

        await underB.ReencryptAsync(progress: null, async (id, ct) =>
        {
            if (attempts++ == 0)
            {
                var session = (await underB.GetSessionAsync(id, ct))!;
                await underB.UpdateSessionAsync(session with { Title = "updated meanwhile", Participants = ["Agent-1", "Agent-3"] }, ct);
            }
        }, Ct);

        var after = (await Open(OnlyB).GetSessionAsync("s-1", Ct))!;
        after.Title.Should().Be("updated meanwhile");
        after.Participants.Should().Equal("Agent-1", "Agent-3");
        after.Version.Should().Be(2);
    }

    [Fact]
    public async Task Reencrypt_WhileAnotherInstanceAppends_LosesNoAcknowledgedAppend()
    {
        const int Runs = 6;
        const int MaxAppends = 400; // a bound: on Memory the writer would otherwise outrun every run
        var underA = Open(Both(KeyA));
        await underA.CreateSessionAsync("s-1", ["Agent-1"], "title", cancellationToken: Ct);
        await underA.AddMessagesAsync("s-1", [.. Enumerable.Range(1, 300).Select(i => Message("s-1", $"a-{i}"))], Ct);
        var writer = Open(Both(KeyB));
        var underB = Open(Both(KeyB));
        var acknowledged = new List<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // Appends from another instance while the runs go on (up to a bound); each run moves the whole session to the other
        // key, so every run rewrites it (or finds it busy) while appends land.
        var appending = Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested && acknowledged.Count < MaxAppends)
                {
                    acknowledged.Add((await writer.AddMessageAsync(Message("s-1", $"b-{acknowledged.Count + 1}"), Ct)).Id);
                    await Task.Yield();
                }
            },
            Ct);
        long rewritten = 0, busy = 0;
        for (var run = 0; run < Runs; run++)
        {
            var report = await (run % 2 == 0 ? underB : underA).ReencryptAsync(cancellationToken: Ct);
            rewritten += report.SessionsRewritten;
            busy += report.SessionsBusy;
        }

        await stop.CancelAsync();
        await appending;
        (await underB.ReencryptAsync(cancellationToken: Ct)).IsComplete.Should().BeTrue();
        var messages = await StoredMessages.ReadAllAsync(Open(OnlyB), "s-1", Ct);
        StoredMessages.ShouldBeGapless(messages);
        messages.Select(m => m.Id).Should().Equal([.. Enumerable.Range(1, 300).Select(i => $"a-{i}"), .. acknowledged], "every acknowledged append is kept, in order");
        TestContext.Current.TestOutputHelper?.WriteLine($"{Runs} runs: {rewritten} rewrote the session, {busy} found it busy; {acknowledged.Count} messages appended meanwhile");
    }

    [Fact]
    public async Task Reencrypt_SessionChangedOnEveryAttempt_IsReportedBusyAndLosesNothing()
    {
        var underA = Open(Both(KeyA));
        await underA.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await underA.AddMessageAsync(Message("s-1", "m-1"), Ct);
        var underB = Open(Both(KeyB));
        var attempts = 0;

        var report = await underB.ReencryptAsync(progress: null, (id, ct) => underB.AddMessageAsync(Message(id, $"late-{++attempts}"), ct), Ct);

        attempts.Should().Be(Reencryption.MaxAttempts);
        report.Should().Be(new ReencryptionReport(0, 0, 0, 1));
        report.IsComplete.Should().BeFalse("a busy session still holds values under the old key");
        (await StoredMessages.ReadAllAsync(underB, "s-1", Ct)).Select(m => m.Id)
            .Should().Equal(["m-1", .. Enumerable.Range(1, Reencryption.MaxAttempts).Select(i => $"late-{i}")]);

        var again = await underB.ReencryptAsync(cancellationToken: Ct);

        again.Should().Be(new ReencryptionReport(1, 0, 1 + Reencryption.MaxAttempts, 0), "a run when it is quiet finishes it");
    }

    [Fact]
    public async Task Reencrypt_SecondRun_FindsEverySessionAlreadyCurrentAndChangesNothing()
    {
        var underA = Open(Both(KeyA));
        for (var s = 1; s <= 3; s++)
        {
            await underA.CreateSessionAsync($"s-{s}", ["Agent-1"], $"title {s}", cancellationToken: Ct);
            await underA.AddMessagesAsync($"s-{s}", [Message($"s-{s}", "m-1"), Message($"s-{s}", "m-2")], Ct);
        }

        var underB = Open(Both(KeyB));
        (await underB.ReencryptAsync(cancellationToken: Ct)).SessionsRewritten.Should().Be(3);
        var stored = await StoredSnapshotAsync(underB, "s-1", "s-2", "s-3");

        var report = await underB.ReencryptAsync(cancellationToken: Ct);

        report.Should().Be(new ReencryptionReport(0, 3, 0, 0));
        (await StoredSnapshotAsync(underB, "s-1", "s-2", "s-3")).Should().Be(stored, "not one stored value was written again");
    }

    [Fact]
    public async Task Reencrypt_ValuesStoredBeforeEncryptionWasOn_AreEncrypted()
    {
        var plain = Open(NoEncryption);
        await plain.CreateSessionAsync("s-1", ["Agent-1"], "plain title", new Dictionary<string, string> { ["topic"] = "plain topic" }, Ct);
        await plain.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2")], Ct);
        var before = await SnapshotAsync(plain, "s-1");
        var underB = Open(Both(KeyB));

        var report = await underB.ReencryptAsync(cancellationToken: Ct);

        report.Should().Be(new ReencryptionReport(1, 0, 2, 0), "plain values with encryption on are not as the settings store them");
        (await StoredKeyIdsAsync(underB, "s-1")).Should().OnlyContain(k => k == KeyB);
        (await SnapshotAsync(Open(OnlyB), "s-1")).Should().Be(before);
    }

    [Fact]
    public async Task Reencrypt_ValueNoKeyOfTheRingOpens_ThrowsNamingSessionMessageAndKey_AndLeavesTheSession()
    {
        var underA = Open(Both(KeyA));
        await underA.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);
        await underA.AddMessagesAsync("s-1", [Message("s-1", "m-1"), Message("s-1", "m-2")], Ct);
        var before = await SnapshotAsync(underA, "s-1");
        var onlyB = Open(OnlyB);

        var run = () => onlyB.ReencryptAsync(cancellationToken: Ct);

        var failure = (await run.Should().ThrowAsync<DecryptionFailedException>()).Which;
        failure.SessionId.Should().Be("s-1");
        failure.MessageId.Should().Be("m-1");
        failure.KeyId.Should().Be(KeyA);
        (await SnapshotAsync(underA, "s-1")).Should().Be(before, "nothing of the session was written");
    }

    [Fact]
    public async Task Reencrypt_EncryptionOff_ThrowsInvalidOperationNamingTheSettings()
    {
        var plain = Open(NoEncryption);
        await plain.CreateSessionAsync("s-1", ["Agent-1"], cancellationToken: Ct);

        var run = () => plain.ReencryptAsync(cancellationToken: Ct);

        (await run.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*Encryption:CurrentKeyId*");
    }

    [Fact]
    public async Task Reencrypt_WithProgress_ReachesTheTotals()
    {
        var underA = Open(Both(KeyA));
        for (var s = 1; s <= 3; s++)
        {
            await underA.CreateSessionAsync($"s-{s}", ["Agent-1"], cancellationToken: Ct);
            await underA.AddMessagesAsync($"s-{s}", [.. Enumerable.Range(1, 700).Select(i => Message($"s-{s}", $"m-{i}"))], Ct);
        }

        var underB = Open(Both(KeyB));
        await underB.CreateSessionAsync("current", ["Agent-1"], cancellationToken: Ct);
        await underB.AddMessageAsync(Message("current", "m-1"), Ct);
        var reports = new List<TransferProgress>();

        await underB.ReencryptAsync(new SynchronousProgress(reports.Add), Ct);

        reports.Should().NotBeEmpty();
        reports[^1].Should().Be(new TransferProgress(4, 4, 2101, 2101, 0), "every session and message is counted once, the current one's too");
        reports.Select(r => r.MessagesDone).Should().BeInAscendingOrder();
    }

    /// <summary>The key id of every protected value of the sessions as stored (null for a plain value).</summary>
    private static async Task<List<string?>> StoredKeyIdsAsync(SessionPersistence store, params string[] sessionIds)
    {
        var raw = SessionStorePipeline.StoredForm(store.Store);
        var ids = new List<string?>();
        foreach (var sessionId in sessionIds)
        {
            var session = (await raw.GetSessionAsync(sessionId, Ct))!;
            ids.AddRange(new[] { session.Title }.Where(t => t is not null).Concat(session.Metadata.Values).Select(v => ValueEnvelope.KeyIdOf(v!)));
            MessageQuery? query = new() { Limit = 1000, Order = MessageOrder.OldestFirst, AfterSequence = 0 };
            while (query is not null)
            {
                var page = await raw.GetMessagesAsync(sessionId, query, Ct);
                ids.AddRange(page.Messages.SelectMany(m => m.Metadata.Values.Prepend(m.Content)).Select(ValueEnvelope.KeyIdOf));
                query = page.Next;
            }
        }

        return ids;
    }

    /// <summary>The sessions and messages exactly as stored (envelopes, not plain text).</summary>
    private static async Task<string> StoredSnapshotAsync(SessionPersistence store, params string[] sessionIds)
    {
        var raw = SessionStorePipeline.StoredForm(store.Store);
        var text = new System.Text.StringBuilder();
        foreach (var sessionId in sessionIds)
        {
            text.Append(System.Text.Json.JsonSerializer.Serialize(await raw.GetSessionAsync(sessionId, Ct))).Append('\n');
            var page = await raw.GetMessagesAsync(sessionId, new MessageQuery { Limit = 1000, Order = MessageOrder.OldestFirst, AfterSequence = 0 }, Ct);
            text.AppendJoin('\n', page.Messages.Select(m => System.Text.Json.JsonSerializer.Serialize(m))).Append('\n');
        }

        return text.ToString();
    }

    private sealed class SynchronousProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>
/// The "a re-encryption killed half-way loses nothing and can be run again", for any store: ten sessions are
/// written under key A (title, metadata, 1,000 messages) and then under key B (500 more messages); a TestWorker
/// re-encrypts under B and is SIGKILLed inside the replacement of the session after <c>sessionsDone</c> whole ones.
/// Afterwards every message of every session reads back with ring {A, B}, exactly those sessions already read with ring
/// {B} alone, and a second run rewrites the rest, after which ring {B} reads everything.
/// </summary>
public static class ReencryptKillCheck
{
    public const int Sessions = 10;
    public const int MessagesPerSession = 1500;

    private const int UnderA = 1000;

    /// <param name="open">Opens an instance over the storage under test with the given key ring applied.</param>
    /// <param name="workerStorage">The storage type and location arguments for the TestWorker, plus the Redis prefix if any.</param>
    /// <param name="sessionsDone">How many sessions the worker completes before it is killed inside the next one's
    /// replacement, after that one's first 1,000 messages went to the store; odd, so that progress is reported there.</param>
    public static async Task RunAsync(
        Func<Action<SessionPersistenceOptions>, SessionPersistence> open, string[] workerStorage, int sessionsDone, CancellationToken cancellationToken)
    {
        (sessionsDone % 2).Should().Be(1, "progress is reported every 1,000 messages: only after an odd number of 1,500-message sessions does one fall inside the next");
        Dictionary<string, string> written;
        await using (var underA = open(o => ProtectionSettings.Encrypt(o, ProtectionSettings.KeyA)))
        {
            for (var s = 0; s < Sessions; s++)
            {
                var id = $"s-{s}";
                await underA.CreateSessionAsync(id, ["a", "b"], $"title of {id}", new Dictionary<string, string> { ["topic"] = $"topic of {id}" }, cancellationToken);
                await AppendAsync(underA, id, 1, UnderA, cancellationToken);
            }
        }

        await using (var underB = open(o => ProtectionSettings.Encrypt(o, ProtectionSettings.KeyB)))
        {
            for (var s = 0; s < Sessions; s++)
            {
                await AppendAsync(underB, $"s-{s}", UnderA + 1, MessagesPerSession, cancellationToken);
            }

            written = await SnapshotAsync(underB, cancellationToken);
        }

        // Held at the first progress report past that many messages: inside the next session's replacement, before its
        // last 500 messages went to the store, until it is killed.
        var holdAfter = ((MessagesPerSession * sessionsDone) + UnderA + 1).ToString(CultureInfo.InvariantCulture);
        var keys = $"{ProtectionSettings.KeyA}={ProtectionSettings.KeyABase64},{ProtectionSettings.KeyB}={ProtectionSettings.KeyBBase64}";
        using (var worker = TestWorkerProcess.Start(["reencrypt", .. workerStorage[..2], ProtectionSettings.KeyB, keys, .. workerStorage[2..], "--hold-after", holdAfter]))
        {
            await worker.Ready.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            await worker.WaitUntilAsync(w => w.Events.Any(e => e == "holding" || e.StartsWith("reencrypted", StringComparison.Ordinal)), TimeSpan.FromSeconds(120));
            worker.KillHard();
            worker.Events.Should().NotContain(e => e.StartsWith("reencrypted", StringComparison.Ordinal), "the kill must fall half-way through the run");
        }

        await using (var both = open(o => ProtectionSettings.Encrypt(o, ProtectionSettings.KeyB)))
        {
            (await SnapshotAsync(both, cancellationToken)).Should().Equal(written, "with ring {A, B} every message of every session reads back as written");
        }

        await using (var onlyB = open(OnlyB))
        {
            var done = 0;
            foreach (var (id, expected) in written)
            {
                try
                {
                    (await SnapshotAsync(onlyB, id, cancellationToken)).Should().Be(expected);
                    done++;
                }
                catch (DecryptionFailedException ex)
                {
                    ex.KeyId.Should().Be(ProtectionSettings.KeyA, "a session not yet rewritten is wholly as it was");
                }
            }

            done.Should().Be(sessionsDone, "the sessions the worker finished are wholly under key B, the one it was killed in is as it was");
        }

        await using (var rerun = open(o => ProtectionSettings.Encrypt(o, ProtectionSettings.KeyB)))
        {
            var report = await rerun.ReencryptAsync(cancellationToken: cancellationToken);
            report.Should().Be(new ReencryptionReport(
                Sessions - sessionsDone, sessionsDone, (long)(Sessions - sessionsDone) * MessagesPerSession, 0), "a second run finishes the job");
        }

        await using (var onlyB = open(OnlyB))
        {
            (await SnapshotAsync(onlyB, cancellationToken)).Should().Equal(written, "with key A retired, ring {B} reads everything");
            (await onlyB.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-0", Sender = "a", Content = "retried" }, cancellationToken)).Sequence
                .Should().Be(1, "a retry of a rewritten message id is still recognised as stored");
        }
    }

    private static void OnlyB(SessionPersistenceOptions options)
    {
        options.Encryption.Keys[ProtectionSettings.KeyB] = ProtectionSettings.KeyBBase64;
        options.Encryption.CurrentKeyId = ProtectionSettings.KeyB;
    }

    private static async Task AppendAsync(SessionPersistence store, string id, int from, int to, CancellationToken cancellationToken)
    {
        foreach (var chunk in Enumerable.Range(from, to - from + 1).Chunk(500))
        {
            await store.AddMessagesAsync(id, [.. chunk.Select(i => new ChatMessage
            {
                Id = $"m-{i}", SessionId = id, Sender = "a", Content = $"content of m-{i}",
                Metadata = new Dictionary<string, string> { ["note"] = $"note of m-{i}" },
            })], cancellationToken);
        }
    }

    private static async Task<Dictionary<string, string>> SnapshotAsync(SessionPersistence store, CancellationToken cancellationToken)
    {
        var snapshot = new Dictionary<string, string>();
        for (var s = 0; s < Sessions; s++)
        {
            snapshot[$"s-{s}"] = await SnapshotAsync(store, $"s-{s}", cancellationToken);
        }

        return snapshot;
    }

    private static async Task<string> SnapshotAsync(SessionPersistence store, string id, CancellationToken cancellationToken)
    {
        var text = new StringBuilder(JsonSerializer.Serialize(await store.GetSessionAsync(id, cancellationToken)));
        foreach (var message in await StoredMessages.ReadAllAsync(store, id, cancellationToken))
        {
            text.Append('\n').Append(JsonSerializer.Serialize(message));
        }

        return text.ToString();
    }
}

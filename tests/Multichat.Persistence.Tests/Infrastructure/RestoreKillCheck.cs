using System.Globalization;
using System.Text;
using System.Text.Json;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>
/// The "a restore killed with SIGKILL half-way leaves every session either as it was or as in the archive",
/// for any store: ten sessions are backed up (state A), then each is changed (state B: other messages, other counts,
/// another title); a TestWorker restores the archive and is killed once it has restored some messages; afterwards each
/// session must equal its A or its B snapshot exactly, never a mixture, and a second restore completes the job.
/// </summary>
public static class RestoreKillCheck
{
    private const int Sessions = 10;
    private const int MessagesPerSession = 1500;

    /// <param name="open">Opens an instance over the storage under test (with the given options applied).</param>
    /// <param name="workerStorage">The storage type and location arguments for the TestWorker, plus the Redis prefix if any.</param>
    /// <param name="killAfterMessages">Kill the worker once it reported at least this many restored messages.</param>
    public static async Task<(int AsArchive, int AsBefore)> RunAsync(
        Func<SessionPersistence> open, string[] workerStorage, int killAfterMessages, CancellationToken cancellationToken)
    {
        var archive = Path.Combine(Path.GetTempPath(), $"multichat-restore-kill-{Guid.NewGuid():N}.mcbak");
        try
        {
            Dictionary<string, string> archived, changed;
            await using (var store = open())
            {
                for (var s = 0; s < Sessions; s++)
                {
                    var id = $"s-{s}";
                    await store.CreateSessionAsync(id, ["a", "b"], title: "archived", cancellationToken: cancellationToken);
                    foreach (var chunk in Enumerable.Range(1, MessagesPerSession).Chunk(500))
                    {
                        await store.AddMessagesAsync(id, [.. chunk.Select(i => Message(id, $"new-{i}"))], cancellationToken);
                    }
                }

                await store.BackupAsync(archive, cancellationToken);
                archived = await SnapshotAsync(store, cancellationToken);
                for (var s = 0; s < Sessions; s++)
                {
                    var id = $"s-{s}";
                    await store.DeleteSessionAsync(id, cancellationToken);
                    await store.CreateSessionAsync(id, ["c"], title: "changed", cancellationToken: cancellationToken);
                    await store.AddMessagesAsync(id, [.. Enumerable.Range(1, 3 + s).Select(i => Message(id, $"old-{i}"))], cancellationToken);
                }

                changed = await SnapshotAsync(store, cancellationToken);
            }

            // The worker holds its restore at the first progress report past killAfterMessages (inside a session's
            // replacement) until it is killed, so the kill lands half-way however fast the restore runs.
            var hold = killAfterMessages.ToString(CultureInfo.InvariantCulture);
            using (var worker = TestWorkerProcess.Start(["restore", .. workerStorage[..2], archive, .. workerStorage[2..], "--hold-after", hold]))
            {
                await worker.Ready.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                await worker.WaitUntilAsync(w => w.Events.Contains("holding") || w.Events.Contains("restored"), TimeSpan.FromSeconds(120));
                worker.KillHard();
                worker.Events.Should().NotContain("restored", "the kill must fall half-way through the restore; lower killAfterMessages");
            }

            int asArchive = 0, asBefore = 0;
            await using (var store = open())
            {
                var after = await SnapshotAsync(store, cancellationToken);
                after.Keys.Should().BeEquivalentTo(archived.Keys);
                foreach (var (id, state) in after)
                {
                    if (state == archived[id])
                    {
                        asArchive++;
                    }
                    else
                    {
                        state.Should().Be(changed[id], $"session {id} must be either as in the archive or as it was, never a mixture");
                        asBefore++;
                    }
                }

                asArchive.Should().BeGreaterThan(0, "the worker restored some messages before it was killed");
                await store.RestoreAsync(archive, RestoreMode.Replace, cancellationToken: cancellationToken);
                (await SnapshotAsync(store, cancellationToken)).Should().Equal(archived, "a second restore completes the job");
            }

            return (asArchive, asBefore);
        }
        finally
        {
            File.Delete(archive);
        }
    }

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = $"content of {id}" };

    private static async Task<Dictionary<string, string>> SnapshotAsync(SessionPersistence store, CancellationToken cancellationToken)
    {
        var snapshot = new Dictionary<string, string>();
        for (var s = 0; s < Sessions; s++)
        {
            var id = $"s-{s}";
            var text = new StringBuilder(JsonSerializer.Serialize(await store.GetSessionAsync(id, cancellationToken)));
            foreach (var message in await StoredMessages.ReadAllAsync(store, id, cancellationToken))
            {
                text.Append('\n').Append(JsonSerializer.Serialize(message));
            }

            snapshot[id] = text.ToString();
        }

        return snapshot;
    }
}

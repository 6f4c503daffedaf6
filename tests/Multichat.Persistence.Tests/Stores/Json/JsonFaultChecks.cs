using System.Text.Json;
using FluentAssertions;
using Multichat.Persistence.Stores.Json;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// What every Json fault test (injected I/O errors, kills at named points, full disks) checks afterwards, in the issue's
/// words: every acknowledged message present with its sequence, sequences never reused, the store's files whole (see
/// <see cref="Integrity"/>), and a retry with the same ids storing nothing twice.
/// </summary>
internal static class JsonFaultChecks
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// The Json store's integrity check, done on the files as a reader of the format would (not through the store):
    /// every <c>session.json</c> a whole record; every <c>messages.jsonl</c> ends with a line break (no torn tail), every
    /// line a whole message, sequences ascending, no id twice above the trim floor; every <c>ids.idx</c> with a table
    /// header has slots that add up to its checksum; every <c>reads.json</c> whole cursors. A deleted session's leftovers (a folder without <c>session.json</c>)
    /// are not a session and are not read. Returns the problems found (none when whole).
    /// </summary>
    public static List<string> Integrity(string root)
    {
        var problems = new List<string>();
        foreach (var folder in Directory.EnumerateDirectories(Path.Combine(root, "sessions")))
        {
            var name = Path.GetFileName(folder);
            var recordPath = Path.Combine(folder, "session.json");
            if (!File.Exists(recordPath))
            {
                continue;
            }

            JsonSessionDocument? record;
            try
            {
                record = JsonSerializer.Deserialize(File.ReadAllBytes(recordPath), JsonStoreContext.Json.JsonSessionDocument);
            }
            catch (JsonException ex)
            {
                problems.Add($"{name}/session.json: {ex.Message}");
                continue;
            }

            if ((record is null ? "no record" : record.Problem()) is { } problem)
            {
                problems.Add($"{name}/session.json: {problem}");
                continue;
            }

            CheckLog(Path.Combine(folder, "messages.jsonl"), name, record!, problems);
            var readsPath = Path.Combine(folder, "reads.json");
            if (File.Exists(readsPath))
            {
                try
                {
                    var reads = JsonSerializer.Deserialize(File.ReadAllBytes(readsPath), JsonStoreContext.Json.JsonReadsDocument);
                    if ((reads is null ? "no cursors" : reads.Problem(JsonMessageLine.MaxSequence)) is { } readsProblem)
                    {
                        problems.Add($"{name}/reads.json: {readsProblem}");
                    }
                }
                catch (JsonException ex)
                {
                    problems.Add($"{name}/reads.json: {ex.Message}");
                }
            }

            var idsPath = Path.Combine(folder, "ids.idx");
            if (File.Exists(idsPath))
            {
                using var table = JsonIdFile.TryOpen(idsPath);
                if (table is not null && !table.ChecksumHolds())
                {
                    problems.Add($"{name}/ids.idx: its slots do not add up to its checksum");
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// Checks one session through <paramref name="store"/>: every id of <paramref name="acknowledged"/> stored with its
    /// sequence, each id of <paramref name="inFlight"/> (the failed call's) at most once, the record's counters and the
    /// listing agreeing with the messages; then retries every acknowledged and in-flight id in one batch (originals
    /// come back, nothing is stored twice, the in-flight ids exactly once) and appends a new message, whose sequence
    /// must be above <paramref name="highestIssued"/> and every sequence seen. Returns what is stored afterwards.
    /// </summary>
    public static async Task<Dictionary<string, long>> SessionAsync(
        SessionPersistence store, string sessionId, IReadOnlyDictionary<string, long> acknowledged, IReadOnlyCollection<string> inFlight, long highestIssued, string because)
    {
        var session = await store.GetSessionAsync(sessionId, Ct);
        session.Should().NotBeNull(because);
        var before = await StoredMessages.ReadAllAsync(store, sessionId, Ct);
        ShouldBeOrdered(before, because);
        var stored = before.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
        foreach (var (id, sequence) in acknowledged)
        {
            stored.Should().ContainKey(id, $"acknowledged {id} must be kept ({because})").WhoseValue.Should().Be(sequence, because);
        }

        var unexpected = stored.Keys.Where(id => !acknowledged.ContainsKey(id) && !inFlight.Contains(id)).ToList();
        unexpected.Should().BeEmpty($"only acknowledged and in-flight ids are stored ({because})");
        await ShouldAgreeAsync(store, session!, before, because);

        var highest = Math.Max(highestIssued, Math.Max(session!.LastSequence, before.Count > 0 ? before[^1].Sequence : 0));
        if (acknowledged.Count > 0)
        {
            session.LastSequence.Should().BeGreaterThanOrEqualTo(acknowledged.Values.Max(), $"LastSequence never drops below an acknowledged sequence ({because})");
        }

        var retried = acknowledged.OrderBy(a => a.Value).Select(a => a.Key).Concat(inFlight).Distinct().ToList();
        if (retried.Count > 0)
        {
            var again = await store.AddMessagesAsync(sessionId, [.. retried.Select(id => Message(sessionId, id))], Ct);
            foreach (var message in again)
            {
                if (stored.TryGetValue(message.Id, out var original))
                {
                    message.Sequence.Should().Be(original, $"a retry of {message.Id} returns the original ({because})");
                }
                else
                {
                    message.Sequence.Should().BeGreaterThan(highest, $"{message.Id} was not stored yet: its sequence is new ({because})");
                }
            }
        }

        var probe = await store.AddMessageAsync(Message(sessionId, $"probe-{Guid.NewGuid():N}"), Ct);
        var after = await StoredMessages.ReadAllAsync(store, sessionId, Ct);
        ShouldBeOrdered(after, because);
        probe.Sequence.Should().Be(after[^1].Sequence, because);
        probe.Sequence.Should().BeGreaterThan(highest, $"a sequence is never reused ({because})");
        after.Select(m => m.Id).Should().BeEquivalentTo(stored.Keys.Concat(inFlight).Append(probe.Id).Distinct(), $"the retry stores each in-flight id exactly once ({because})");
        await ShouldAgreeAsync(store, (await store.GetSessionAsync(sessionId, Ct))!, after, because);
        return after.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
    }

    /// <summary>The session is gone everywhere: no record, no messages, not listed.</summary>
    public static async Task AbsentAsync(SessionPersistence store, string sessionId, string because)
    {
        (await store.GetSessionAsync(sessionId, Ct)).Should().BeNull(because);
        var read = () => store.GetMessagesAsync(sessionId, new MessageQuery(), Ct);
        await read.Should().ThrowAsync<SessionNotFoundException>(because);
        (await ListedAsync(store)).Should().NotContainKey(sessionId, $"a session that is gone is not listed ({because})");
    }

    /// <summary>Every session the store lists, by id (at most 1000).</summary>
    public static async Task<Dictionary<string, ChatSession>> ListedAsync(SessionPersistence store) =>
        (await store.ListSessionsAsync(new SessionQuery { Limit = 1000 }, Ct)).Sessions.ToDictionary(s => s.SessionId, StringComparer.Ordinal);

    /// <summary>
    /// Under MaxSessions = <paramref name="maxSessions"/>: creates sessions until the store holds that many (each must
    /// be accepted: the count is never too high to let them in after a recount), then one more (refused: never too low);
    /// then deletes those it created.
    /// </summary>
    public static async Task SessionLimitHoldsAsync(SessionPersistence store, int maxSessions, string because)
    {
        var present = (await ListedAsync(store)).Count;
        var fills = Enumerable.Range(present, Math.Max(0, maxSessions - present)).Select(i => $"fill-{i}-{Guid.NewGuid():N}").ToList();
        foreach (var fill in fills)
        {
            await store.CreateSessionAsync(fill, ["a"], cancellationToken: Ct);
        }

        var over = () => store.CreateSessionAsync($"one-too-many-{Guid.NewGuid():N}", ["a"], cancellationToken: Ct);
        await over.Should().ThrowAsync<QuotaExceededException>($"{maxSessions} sessions are stored ({because})");
        (await ListedAsync(store)).Should().HaveCount(maxSessions, because);
        foreach (var fill in fills)
        {
            (await store.DeleteSessionAsync(fill, Ct)).Should().BeTrue(because);
        }
    }

    public static ChatMessage Message(string sessionId, string id, int contentBytes = 0) => new()
    {
        Id = id, SessionId = sessionId, Sender = "a", Content = contentBytes > 0 ? new string('x', contentBytes) : $"content of {id}",
    };

    private static void ShouldBeOrdered(List<ChatMessage> messages, string because)
    {
        messages.Select(m => m.Sequence).Should().BeInAscendingOrder(because).And.OnlyHaveUniqueItems(because);
        messages.Select(m => m.Id).Should().OnlyHaveUniqueItems($"no id is stored twice ({because})");
    }

    /// <summary>The record's counters and the listing (the instance's cached catalog) say what the messages say.</summary>
    private static async Task ShouldAgreeAsync(SessionPersistence store, ChatSession session, List<ChatMessage> messages, string because)
    {
        session.MessageCount.Should().Be(messages.Count, $"MessageCount counts the stored messages ({because})");
        if (messages.Count > 0)
        {
            session.LastSequence.Should().BeGreaterThanOrEqualTo(messages[^1].Sequence, because);
        }

        var listed = await ListedAsync(store);
        listed.Should().ContainKey(session.SessionId, $"an existing session is listed ({because})");
        listed[session.SessionId].MessageCount.Should().Be(session.MessageCount, $"the listing agrees with the record ({because})");
        listed[session.SessionId].LastSequence.Should().Be(session.LastSequence, $"the listing agrees with the record ({because})");
    }

    private static void CheckLog(string path, string name, JsonSessionDocument record, List<string> problems)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length > 0 && bytes[^1] != (byte)'\n')
        {
            problems.Add($"{name}/messages.jsonl: ends in an unfinished line");
        }

        long last = 0;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var offset = 0;
        while (offset < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', offset);
            if (end < 0)
            {
                break;
            }

            if (!JsonMessageLine.TryRead(bytes.AsSpan(offset, end - offset), record.SessionId, out var message))
            {
                problems.Add($"{name}/messages.jsonl: damaged line at byte {offset}");
            }
            else
            {
                if (message!.Sequence <= last)
                {
                    problems.Add($"{name}/messages.jsonl: sequence {message.Sequence} after {last}");
                }

                last = message.Sequence;
                if (message.Sequence >= record.FirstSequence && !ids.Add(message.Id))
                {
                    problems.Add($"{name}/messages.jsonl: id {message.Id} stored twice");
                }
            }

            offset = end + 1;
        }
    }
}

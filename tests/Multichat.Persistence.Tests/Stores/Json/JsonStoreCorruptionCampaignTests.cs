using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>
/// Issue #9: a seeded corruption campaign over every file the Json store owns. Each round copies a store of several
/// sessions, damages one file (a byte flip, a truncation, a deletion, a zeroed region, appended garbage, or a JSON field
/// of the wrong type), opens the store and checks: only StoreCorrupted/StoreUnavailable/SessionNotFound for the damaged
/// session, every other session whole, sequences never reused, and a retry with the same ids stores nothing twice.
/// Rounds: 60, or MULTICHAT_FAULT_ROUNDS.
/// </summary>
public sealed class JsonStoreCorruptionCampaignTests : IDisposable
{
    private const int Sessions = 4;
    private const int Messages = 15;

    private static readonly string[] SessionFiles = ["session.json", "messages.jsonl", "ids.idx", ".lock"];
    private static readonly string[] RootFiles = ["format.json", "activity.bin", "sessions.count"];
    private static readonly string[] Derived = ["ids.idx", ".lock", "activity.bin", "sessions.count"];

    private readonly JsonTestFolder _template = new();

    // What the last damage did exactly, for the message of a violation.
    private static string _detail = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _template.Dispose();

    [Fact]
    public async Task CorruptionCampaign_OneDamagedFile_NeverHidesAnotherSessionOrReusesASequence()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), out var r) && r > 0 ? r : 60;
        await SeedAsync();
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var violations = new List<string>();
        for (var round = 0; round < rounds; round++)
        {
            var random = new Random(round);
            using var folder = new JsonTestFolder();
            Copy(_template.Root, folder.Root);
            var target = random.Next(Sessions);
            var all = SessionFiles.Length + RootFiles.Length;
            var pick = random.Next(all);
            var file = pick < SessionFiles.Length ? SessionFiles[pick] : RootFiles[pick - SessionFiles.Length];
            var sessionFile = pick < SessionFiles.Length;
            var path = sessionFile ? Path.Combine(folder.FolderOf(Id(target)), file) : Path.Combine(folder.Root, file);
            _detail = "";
            var damage = Damage(path, random);
            var damaged = sessionFile && !Derived.Contains(file) ? Id(target) : null;
            var outcome = await CheckAsync(folder, damaged, $"round {round}: {file}/{damage} {_detail}", violations);
            var key = $"{file} / {damage} -> {outcome}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }

        var report = new StringBuilder($"Json corruption campaign: {rounds} damaged files\n");
        foreach (var (key, count) in outcomes)
        {
            report.Append(CultureInfoInvariant($"{count,4}  {key}\n"));
        }

        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        Console.WriteLine(report.ToString());
        violations.Should().BeEmpty(report.ToString());
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>Opens the damaged copy and checks every session; returns what the damaged session (or the store) got.</summary>
    private static async Task<string> CheckAsync(JsonTestFolder folder, string? damaged, string what, List<string> violations)
    {
        SessionPersistence store;
        try
        {
            var options = folder.Options();
            options.MaxSessions = 100;
            store = SessionPersistence.Create(options);
        }
        catch (Exception ex) when (ex is StoreCorruptedException or StoreUnavailableException)
        {
            return "open refused: " + ex.GetType().Name;
        }
        catch (Exception ex)
        {
            violations.Add($"{what}: open threw {ex.GetType().Name}: {ex.Message}");
            return "VIOLATION";
        }

        await using (store)
        {
            var outcome = damaged is null ? "all sessions whole" : "?";
            try
            {
                var listed = (await store.ListSessionsAsync(new SessionQuery { Limit = 100 }, Ct)).Sessions.Select(s => s.SessionId).ToHashSet();
                await store.GetStatisticsAsync(Ct);
                await store.CheckHealthAsync(Ct);
                var others = Enumerable.Range(0, Sessions).Select(Id).Where(id => id != damaged).ToList();
                var missing = others.Where(id => !listed.Contains(id)).ToList();
                if (missing.Count > 0)
                {
                    violations.Add($"{what}: listing hides {string.Join(", ", missing)}");
                }
            }
            catch (Exception ex)
            {
                violations.Add($"{what}: listing threw {ex.GetType().Name}: {ex.Message}");
            }

            for (var s = 0; s < Sessions; s++)
            {
                var id = Id(s);
                try
                {
                    var result = await CheckSessionAsync(store, id, whole: id != damaged);
                    if (id == damaged)
                    {
                        outcome = result;
                    }
                }
                catch (Exception ex) when (id == damaged && ex is StoreCorruptedException or StoreUnavailableException or SessionNotFoundException)
                {
                    outcome = ex.GetType().Name;
                }
                catch (Exception ex)
                {
                    violations.Add($"{what}: session {id}: {ex.GetType().Name}: {ex.Message}");
                    outcome = "VIOLATION";
                }
            }

            try
            {
                // sessions.count in use: a create under a limit works (or refuses cleanly) after any damage.
                await store.CreateSessionAsync(new ChatSession { SessionId = "new", Participants = ["a"] }, Ct);
            }
            catch (Exception ex) when (ex is StoreUnavailableException or QuotaExceededException)
            {
            }
            catch (Exception ex)
            {
                violations.Add($"{what}: create threw {ex.GetType().Name}: {ex.Message}");
            }

            return outcome;
        }
    }

    /// <summary>Reads, retries every acknowledged id plus one new one, reads again. Whole: exactly what was acknowledged.</summary>
    private static async Task<string> CheckSessionAsync(SessionPersistence store, string id, bool whole)
    {
        var before = (await store.GetMessagesAsync(id, new MessageQuery { Limit = 1000 }, Ct)).Messages;
        var retry = await store.AddMessagesAsync(id, [.. Enumerable.Range(1, Messages).Select(i => Message(id, $"m-{i}")), Message(id, "n-1")], Ct);
        var after = (await store.GetMessagesAsync(id, new MessageQuery { Limit = 1000 }, Ct)).Messages;
        var expected = Enumerable.Range(1, Messages).Select(i => $"m-{i}").ToList();
        if (whole)
        {
            before.Select(m => m.Id).Should().Equal(expected, $"session {id} was not damaged");
            before.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, Messages).Select(i => (long)i));
            retry.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, Messages + 1).Select(i => (long)i), "a retry returns the originals");
        }

        // A damaged line may itself read as a copy of another (a flipped digit of its id or sequence): what is checked is
        // what the retry added.
        var seen = before.Select(m => m.Sequence).ToHashSet();
        var added = after.Where(m => !seen.Contains(m.Sequence)).ToList();
        retry[^1].Sequence.Should().BeGreaterThan(Messages, $"session {id}: sequences 1..{Messages} were acknowledged");
        added.Select(m => m.Sequence).Should().OnlyContain(q => q > Messages, $"session {id}: a sequence is never reused");
        added.Where(m => before.Any(b => b.Id == m.Id)).Should().BeEmpty($"session {id}: a retry stores nothing twice (before {Show(before)}, after {Show(after)})");
        var lost = expected.Count(e => !before.Any(m => m.Id == e));
        var copies = before.Count - before.Select(m => m.Id).Distinct().Count();
        return lost == 0 && copies == 0 ? "served whole"
            : copies > 0 ? "served, a damaged line reads as a copy of another"
            : "served, damaged lines left out";
    }

    private static string Show(IEnumerable<ChatMessage> messages) => string.Join(" ", messages.Select(m => $"{m.Sequence}:{m.Id}"));

    private static string Damage(string path, Random random)
    {
        if (!File.Exists(path))
        {
            return "absent";
        }

        var bytes = File.ReadAllBytes(path);
        var kinds = path.EndsWith(".json", StringComparison.Ordinal)
            ? new[] { "flip", "truncate", "delete", "zero", "garbage", "wrong-type" }
            : ["flip", "truncate", "delete", "zero", "garbage"];
        var kind = kinds[random.Next(kinds.Length)];
        switch (kind)
        {
            case "flip" when bytes.Length > 0:
                var at = random.Next(bytes.Length);
                var was = bytes[at];
                bytes[at] ^= (byte)random.Next(1, 256);
                _detail = FormattableString.Invariant($"byte {at}: '{(char)was}' -> '{(char)bytes[at]}'");
                break;
            case "truncate":
                Array.Resize(ref bytes, random.Next(bytes.Length + 1));
                break;
            case "delete":
                File.Delete(path);
                return kind;
            case "zero" when bytes.Length > 0:
                var start = random.Next(bytes.Length);
                bytes.AsSpan(start, Math.Min(bytes.Length - start, random.Next(1, 64))).Clear();
                break;
            case "garbage":
                var tail = new byte[random.Next(1, 200)];
                random.NextBytes(tail);
                bytes = [.. bytes, .. tail];
                break;
            case "wrong-type":
                var node = JsonNode.Parse(bytes)!.AsObject();
                var fields = node.Select(p => p.Key).ToList();
                var field = fields[random.Next(fields.Count)];
                node[field] = node[field] is JsonValue value && value.TryGetValue<string>(out _) ? JsonValue.Create(7) : JsonValue.Create("x");
                bytes = Encoding.UTF8.GetBytes(node.ToJsonString());
                kind += ":" + field;
                break;
            default:
                return kind + " (empty file)";
        }

        File.WriteAllBytes(path, bytes);
        return kind;
    }

    private async Task SeedAsync()
    {
        var options = _template.Options();
        options.MaxSessions = 100;
        await using var store = SessionPersistence.Create(options);
        for (var s = 0; s < Sessions; s++)
        {
            await store.CreateSessionAsync(Id(s), ["a", "b"], "title", cancellationToken: Ct);
            foreach (var chunk in Enumerable.Range(1, Messages).Chunk(5))
            {
                await store.AddMessagesAsync(Id(s), chunk.Select(i => Message(Id(s), $"m-{i}")).ToArray(), Ct);
            }
        }
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string Id(int s) => $"s-{s}";

    private static ChatMessage Message(string sessionId, string id) => new() { Id = id, SessionId = sessionId, Sender = "a", Content = $"content of {id}" };
}

using System.Text;
using FluentAssertions;
using Microsoft.Data.Sqlite;
using Multichat.Persistence.Stores.Sqlite;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Sqlite;

/// <summary>
/// A seeded corruption campaign over the files the store owns (byte flips in random pages of <c>sessions.db</c> and
/// its <c>-wal</c>, zeroed pages, truncations, a deleted <c>-wal</c>). On every damaged file each call either works
/// or fails with <see cref="StoreCorruptedException"/> or <see cref="StoreUnavailableException"/> (never another
/// type, never a hang); once a call reported damage, health is not Healthy; and what the store returns without
/// reporting anything is checked against what was acknowledged.
/// </summary>
public sealed class SqliteCorruptionCampaignTests(ITestOutputHelper output) : IDisposable
{
    private const int Sessions = 4;
    private const int CleanMessages = 80;
    private const int WalMessages = 20;

    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(30);

    private readonly string _folder = SqliteTestFolder.Create();

    private enum Damage
    {
        FlipDatabaseBytes,
        ZeroDatabasePage,
        TruncateDatabase,
        FlipDatabaseBytesUnderWal,
        FlipWalBytes,
        TruncateWal,
        DeleteWal,
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryCall_OnASeededlyDamagedFile_WorksOrFailsTypedAndHealthSaysSo()
    {
        var kinds = Enum.GetValues<Damage>();
        var rounds = SqliteFaultRounds.Get(normal: kinds.Length * 5);
        var seed = SqliteFaultRounds.Seed();
        var clean = Path.Combine(_folder, "clean");
        var live = Path.Combine(_folder, "live");
        var (cleanExpected, liveExpected) = await CreateBasesAsync(clean, live);

        var outcomes = new List<(Damage Kind, string Outcome, string Detail)>();
        var partial = 0;
        var contained = 0;
        for (var round = 0; round < rounds; round++)
        {
            var kind = kinds[round % kinds.Length];
            var random = new Random(seed + round);
            var target = Path.Combine(_folder, $"round-{round}");
            var underWal = kind is Damage.FlipDatabaseBytesUnderWal or Damage.FlipWalBytes or Damage.TruncateWal or Damage.DeleteWal;
            CopyFolder(underWal ? live : clean, target);
            var what = Apply(kind, Path.Combine(target, SqliteStore.FileName), random);
            var probe = await ProbeAsync(target, underWal ? liveExpected : cleanExpected);
            var integrity = IntegrityCheck(Path.Combine(target, SqliteStore.FileName));
            var walLost = kind is Damage.TruncateWal or Damage.DeleteWal or Damage.FlipWalBytes;
            var outcome = Classify(probe, underWal ? liveExpected : cleanExpected, cleanExpected, walLost);
            outcomes.Add((kind, outcome, $"{what}; {probe.Summary}; integrity_check: {integrity}"));

            // One damaged session never hides another: when some sessions' reads reported damage, the others read
            // back as acknowledged (counted; a damaged page shared by all sessions, such as an index root, hides all).
            var failedReads = probe.Reported.Count(r => r.StartsWith("read ", StringComparison.Ordinal));
            if (failedReads is > 0 and < Sessions)
            {
                partial++;
                var expectedHere = underWal ? liveExpected : cleanExpected;
                contained += probe.Read.Count == Sessions - failedReads
                    && probe.Read.All(pair => pair.Value.Select(Key).SequenceEqual(expectedHere[pair.Key].Select(Key))) ? 1 : 0;
            }

            output.WriteLine($"round {round} {kind}: {outcome} ({what}; {probe.Summary}; integrity_check: {integrity})");

            probe.Wrong.Should().BeEmpty($"round {round} (seed {seed}, {what}) may only fail with StoreCorruptedException or StoreUnavailableException");
            probe.Hangs.Should().BeEmpty($"round {round} (seed {seed}, {what}): every call ends within {CallBound}");
            if (probe.Reported.Count > 0)
            {
                probe.Health.Should().NotBe(StoreHealthStatus.Healthy, $"round {round} (seed {seed}, {what}) reported damage: {string.Join(", ", probe.Reported)}");
            }

            if (walLost)
            {
                // -wal frames carry checksums: damage there ends the log at the last good commit, never mid-commit.
                outcome.Should().BeOneOf(["intact", "reported", "rolled back"], $"round {round} (seed {seed}, {what}): {probe.Summary}");
            }
            else if (kind is Damage.ZeroDatabasePage or Damage.TruncateDatabase)
            {
                // A zeroed or missing page is no valid b-tree page: whoever reads it gets SQLITE_CORRUPT.
                outcome.Should().NotBe("silent loss", $"round {round} (seed {seed}, {what}): {probe.Summary}").And.NotBe("silent alteration");
            }

            // Flipped bytes are counted, not refused: SQLite keeps no page checksums, so a flip inside a stored value
            // reads back changed, and one in a b-tree page can hide rows from the walk that uses it (see
            // docs/storage/sqlite.md, "Damage"). What holds: a file that silently lost rows fails integrity_check.
            if (outcome == "silent loss")
            {
                integrity.Should().NotBe("ok", $"round {round} (seed {seed}, {what}): a silent loss must at least be found by PRAGMA integrity_check");
            }

            SqliteTestFolder.Delete(target);
        }

        output.WriteLine($"seed {seed}, {rounds} damaged files; in {partial} some sessions' reads reported damage, and in {contained} of them every other session read back intact:");
        foreach (var group in outcomes.GroupBy(o => o.Kind))
        {
            output.WriteLine($"  {group.Key}: {group.Count()} — " + string.Join(", ", group.GroupBy(o => o.Outcome).Select(g =>
                $"{g.Key} {g.Count()} ({g.Count(o => !o.Detail.EndsWith("integrity_check: ok", StringComparison.Ordinal))} failing integrity_check)")));
        }
    }

    public void Dispose() => SqliteTestFolder.Delete(_folder);

    /// <summary>
    /// intact: everything acknowledged read back unchanged, nothing reported. reported: a call failed typed.
    /// rolled back: no report, and each session reads as an earlier commit of itself (what SQLite does when -wal
    /// frames are lost: their commits vanish as a whole, and the sequences they had issued are issued again).
    /// silent alteration: a row read back changed, none missing.
    /// silent loss: an acknowledged row or session missing with nothing reported.
    /// </summary>
    private static string Classify(
        Probe probe, Dictionary<string, List<ChatMessage>> expected, Dictionary<string, List<ChatMessage>> earlier, bool walLost)
    {
        if (probe.Reported.Count > 0 || probe.Wrong.Count > 0 || probe.Hangs.Count > 0)
        {
            return "reported";
        }

        if (probe.Lost == 0 && probe.Altered == 0 && probe.Duplicated == 0 && probe.Reused == 0)
        {
            return "intact";
        }

        var prefixes = expected.All(pair =>
            probe.Read.TryGetValue(pair.Key, out var rows)
            && rows.Count >= earlier[pair.Key].Count
            && rows.Select(Key).SequenceEqual(pair.Value.Take(rows.Count).Select(Key)));
        if (walLost && prefixes && probe.Altered == 0)
        {
            return "rolled back";
        }

        return probe.Lost > 0 || probe.Duplicated > 0 ? "silent loss" : "silent alteration";
    }

    private static (long, string, string) Key(ChatMessage m) => (m.Sequence, m.Id, m.Content);

    private static async Task<Probe> ProbeAsync(string folder, Dictionary<string, List<ChatMessage>> expected)
    {
        var probe = new Probe();
        await using var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Sqlite,
            StoragePath = folder,
            SqliteBusyTimeout = TimeSpan.FromSeconds(2),
        });
        await probe.StepAsync("list", async () =>
        {
            var listed = new List<string>();
            SessionQuery? query = new() { Limit = 2 };
            while (query is not null)
            {
                var page = await store.ListSessionsAsync(query, Ct);
                listed.AddRange(page.Sessions.Select(s => s.SessionId));
                query = page.ContinuationToken is null ? null : query with { ContinuationToken = page.ContinuationToken };
            }

            probe.Lost += expected.Keys.Count(id => !listed.Contains(id));
        });
        foreach (var (sessionId, messages) in expected)
        {
            await probe.StepAsync("get", async () =>
            {
                if (await store.GetSessionAsync(sessionId, Ct) is null)
                {
                    probe.Lost++;
                }
            });
            await probe.StepAsync($"read {sessionId}", async () =>
            {
                var rows = await StoredMessages.ReadAllAsync(store, sessionId, Ct);
                probe.Read[sessionId] = rows;
                var byId = rows.GroupBy(m => m.Id).ToDictionary(g => g.Key, g => g.ToList());
                foreach (var message in messages)
                {
                    if (!byId.TryGetValue(message.Id, out var found))
                    {
                        probe.Lost++;
                    }
                    else if (found.Count > 1)
                    {
                        probe.Duplicated++;
                    }
                    else if (Key(found[0]) != Key(message) || found[0].Sender != message.Sender)
                    {
                        probe.Altered++;
                    }
                }

                probe.Altered += rows.Count(m => !messages.Exists(e => e.Id == m.Id));
            });
        }

        var (retrySession, retried) = expected.First();
        await probe.StepAsync("retry", async () =>
        {
            var again = await store.AddMessageAsync(retried[retried.Count / 2] with { Sequence = 0 }, Ct);
            if (again.Sequence != retried[retried.Count / 2].Sequence)
            {
                probe.Duplicated++;
            }
        });
        await probe.StepAsync("append", async () =>
        {
            var message = new ChatMessage { Id = "probe", SessionId = retrySession, Sender = "p", Content = "after the damage" };
            var first = await store.AddMessageAsync(message, Ct);
            var second = await store.AddMessageAsync(message, Ct);
            if (second.Sequence != first.Sequence)
            {
                probe.Duplicated++;
            }

            if (first.Sequence <= retried[^1].Sequence)
            {
                probe.Reused++;
            }
        });
        await probe.StepAsync("statistics", () => store.GetStatisticsAsync(Ct));
        await probe.StepAsync("health", async () => probe.Health = (await store.CheckHealthAsync(Ct)).Status);
        return probe;
    }

    private static string Apply(Damage kind, string database, Random random)
    {
        var wal = database + "-wal";
        switch (kind)
        {
            case Damage.FlipDatabaseBytes or Damage.FlipDatabaseBytesUnderWal:
                return Flip(database, random, PageSize(database));
            case Damage.ZeroDatabasePage:
            {
                var pageSize = PageSize(database);
                var page = random.Next(0, (int)(new FileInfo(database).Length / pageSize));
                using var file = new FileStream(database, FileMode.Open, FileAccess.Write);
                file.Position = (long)page * pageSize;
                file.Write(new byte[pageSize]);
                return $"page {page} zeroed";
            }

            case Damage.TruncateDatabase:
            {
                var length = new FileInfo(database).Length;
                var pageSize = PageSize(database);
                // At least one byte: an empty file is a new store to the store (as a deleted one is), not a damaged one.
                var keep = random.Next(2) == 0 ? random.Next(1, (int)(length / pageSize)) * (long)pageSize : random.NextInt64(1, length);
                using var file = new FileStream(database, FileMode.Open, FileAccess.Write);
                file.SetLength(keep);
                return $"truncated to {keep} of {length} bytes";
            }

            case Damage.FlipWalBytes:
                return "-wal: " + Flip(wal, random, pageSize: 0);
            case Damage.TruncateWal:
            {
                var length = new FileInfo(wal).Length;
                var keep = random.NextInt64(0, length);
                using var file = new FileStream(wal, FileMode.Open, FileAccess.Write);
                file.SetLength(keep);
                return $"-wal truncated to {keep} of {length} bytes";
            }

            default:
                File.Delete(wal);
                return "-wal deleted";
        }
    }

    /// <summary>Flips 1–8 bytes inside one random page (or, for the -wal, anywhere).</summary>
    private static string Flip(string path, Random random, int pageSize)
    {
        var bytes = File.ReadAllBytes(path);
        var start = 0;
        var span = bytes.Length;
        var where = new StringBuilder();
        if (pageSize > 0)
        {
            var page = random.Next(0, bytes.Length / pageSize);
            start = page * pageSize;
            span = pageSize;
            where.Append("page ").Append(page);
        }

        var flips = random.Next(1, 9);
        for (var i = 0; i < flips; i++)
        {
            bytes[start + random.Next(span)] ^= (byte)random.Next(1, 256);
        }

        File.WriteAllBytes(path, bytes);
        return $"{flips} bytes flipped {where}".TrimEnd();
    }

    private static int PageSize(string database)
    {
        using var file = File.OpenRead(database);
        Span<byte> header = stackalloc byte[18];
        file.ReadExactly(header);
        var size = (header[16] << 8) | header[17];
        return size == 1 ? 65536 : size;
    }

    private static string IntegrityCheck(string database)
    {
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA integrity_check(1)";
            return (string)command.ExecuteScalar()!;
        }
        catch (SqliteException ex)
        {
            return $"error {ex.SqliteErrorCode}";
        }
    }

    /// <summary>Writes the two bases: a checkpointed file, and one whose last commits are still in its -wal.</summary>
    private static async Task<(Dictionary<string, List<ChatMessage>> Clean, Dictionary<string, List<ChatMessage>> Live)> CreateBasesAsync(string clean, string live)
    {
        var random = new Random(11);
        var cleanExpected = new Dictionary<string, List<ChatMessage>>();
        await using (var store = Open(clean))
        {
            for (var s = 0; s < Sessions; s++)
            {
                var id = $"c-{s}";
                await store.CreateSessionAsync(id, ["p", "q"], title: $"session {s}", cancellationToken: Ct);
                cleanExpected[id] = [.. await store.AddMessagesAsync(id, Messages(id, 0, CleanMessages, random), Ct)];
            }
        }

        CopyFolder(clean, Path.Combine(live, "writing"));
        var liveExpected = cleanExpected.ToDictionary(p => p.Key, p => p.Value.ToList());
        await using (var store = Open(Path.Combine(live, "writing")))
        {
            foreach (var id in cleanExpected.Keys)
            {
                liveExpected[id].AddRange(await store.AddMessagesAsync(id, Messages(id, CleanMessages, WalMessages, random), Ct));
            }

            // What a kill -9 would leave now: the file and a -wal holding the last commits (no checkpoint ran yet).
            File.Exists(Path.Combine(live, "writing", SqliteStore.FileName + "-wal")).Should().BeTrue();
            foreach (var name in new[] { SqliteStore.FileName, SqliteStore.FileName + "-wal" })
            {
                File.Copy(Path.Combine(live, "writing", name), Path.Combine(live, name));
            }
        }

        SqliteTestFolder.Delete(Path.Combine(live, "writing"));
        return (cleanExpected, liveExpected);
    }

    private static List<ChatMessage> Messages(string sessionId, int from, int count, Random random) =>
        Enumerable.Range(from, count).Select(i => new ChatMessage
        {
            Id = $"{sessionId}-m{i}",
            SessionId = sessionId,
            Sender = i % 2 == 0 ? "p" : "q",
            Content = $"message {i}: " + new string((char)('a' + random.Next(26)), random.Next(50, 400)),
        }).ToList();

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    private static SessionPersistence Open(string folder) =>
        SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Sqlite, StoragePath = folder });

    /// <summary>What one damaged file did to the calls made on it.</summary>
    private sealed class Probe
    {
        public List<string> Reported { get; } = [];

        public List<string> Wrong { get; } = [];

        public List<string> Hangs { get; } = [];

        public Dictionary<string, List<ChatMessage>> Read { get; } = [];

        public int Lost { get; set; }

        public int Altered { get; set; }

        public int Duplicated { get; set; }

        public int Reused { get; set; }

        public StoreHealthStatus? Health { get; set; }

        public string Summary =>
            $"reported [{string.Join(", ", Reported)}], lost {Lost}, altered {Altered}, duplicated {Duplicated}, sequences reused {Reused}, health {Health?.ToString() ?? "threw"}"
            + (Wrong.Count > 0 ? $", WRONG [{string.Join(", ", Wrong)}]" : string.Empty)
            + (Hangs.Count > 0 ? $", HUNG [{string.Join(", ", Hangs)}]" : string.Empty);

        public async Task StepAsync(string step, Func<Task> call)
        {
            try
            {
                await call().WaitAsync(CallBound, Ct);
            }
            catch (TimeoutException)
            {
                Hangs.Add(step);
            }
            catch (SessionNotFoundException)
            {
                // The session's row is gone while its messages or listing entry say otherwise: counted as a loss.
                Lost++;
            }
            catch (Exception ex) when (ex is StoreCorruptedException or StoreUnavailableException)
            {
                Reported.Add($"{step}: {ex.GetType().Name}");
            }
            catch (Exception ex)
            {
                Wrong.Add($"{step}: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }
}

using Multichat.Persistence.Backup;
using Multichat.Persistence.Tests.Infrastructure;
using static Multichat.Persistence.Tests.Fuzzing.FuzzChecks;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Issue #12 item 6, hostile files: the backup archive reader, through <c>VerifyBackupAsync(Stream)</c> and
/// <c>RestoreAsync(Stream, RestoreMode.Replace)</c> into a Memory store that already holds sessions, fed with archives
/// damaged at the three depths of <see cref="ArchiveMutations"/> (a third each).
/// </summary>
/// <remarks>
/// What may come out (docs/storage-formats.md, "Backup archive"): from <c>VerifyBackupAsync</c> only
/// <see cref="StoreCorruptedException"/> (it checks no record against a store's limits); from <c>RestoreAsync</c> that,
/// or the <see cref="ArgumentException"/> with which the restore names a record this store cannot take (only that one:
/// the message begins "The archive's session"). Never both a passing check and a corrupted restore of the same bytes; a
/// refused restore leaves the store exactly as it was; a restore that passes holds what the check counted, and every
/// session it wrote reads back. Nothing is left in the temp folder (a stream that cannot seek is spooled there).
/// </remarks>
[Collection(FuzzGroup.Name)]
public sealed class BackupArchiveFuzzTests : IAsyncLifetime
{
    private const string Kept = "kept";
    private const string Replaced = "s-0";

    // Checks archives: VerifyBackupAsync reads the stream alone, the store behind it is never touched.
    private readonly SessionPersistence _checker = MemoryStore();

    private byte[] _archive = [];
    private string[] _lines = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await using var store = MemoryStore();
        for (var s = 0; s < 3; s++)
        {
            var id = $"s-{s}";
            await store.CreateSessionAsync(id, ["agent-1", "agent-2"], $"title {s} ü", new Dictionary<string, string> { ["k"] = "v" }, Ct);
            for (var m = 1; m <= s * s * 3; m++)
            {
                await store.AddMessageAsync(new ChatMessage
                {
                    Id = $"m-{m}",
                    SessionId = id,
                    Sender = "agent-1",
                    Recipient = m % 2 == 0 ? "agent-2" : null,
                    Content = $"message {m} of {id}: \"quoted\" 日本語 😀",
                    Metadata = m % 3 == 0 ? new Dictionary<string, string> { ["n"] = "1" } : EmptyMetadata.Instance,
                }, Ct);
            }
        }

        using var archive = new MemoryStream();
        await store.BackupAsync(archive, Ct);
        _archive = archive.ToArray();
        _lines = ArchiveMutations.Decompress(_archive);
    }

    public ValueTask DisposeAsync() => _checker.DisposeAsync();

    [Fact]
    public async Task VerifyAndRestore_MutatedArchives_RefuseTypedAndChangeNothingOrRestoreWhatTheyHold()
    {
        // A temp folder of this test's own (the collection runs alone in the process), so "nothing left behind" is
        // exact even while other processes on the machine spool restores of their own.
        var shared = Environment.GetEnvironmentVariable("TMPDIR");
        var own = Path.Combine(Path.GetTempPath(), "multichat-fuzz-tmp-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(own);
        Environment.SetEnvironmentVariable("TMPDIR", own);
        try
        {
            Rule(Path.GetFullPath(Path.GetTempPath()).TrimEnd('/') == own, $"the temp folder is {Path.GetTempPath()}, not {own}");
            await new FuzzRun("backup archive", 61_210).RunAsync(IterateAsync);
        }
        finally
        {
            Environment.SetEnvironmentVariable("TMPDIR", shared);
            Directory.Delete(own, recursive: true);
        }
    }

    private async Task<string> IterateAsync(int iteration, Random random, FuzzCase fuzzCase, CancellationToken ct)
    {
        var depth = (ArchiveMutations.Depth)(iteration % 3);
        var what = "the archive as written";
        var bytes = iteration % 97 == 0 ? _archive : ArchiveMutations.Mutate(_archive, _lines, random, depth, out what);
        fuzzCase.Input = $"{depth}: {what}";

        var (info, damaged) = await Typed("VerifyBackupAsync", () => _checker.VerifyBackupAsync(new MemoryStream(bytes), ct), ex => ex is StoreCorruptedException);
        Rule(iteration % 97 != 0 || damaged is null, $"the archive as written fails its check: {damaged?.Message}");

        await using var store = MemoryStore();
        await store.CreateSessionAsync(Kept, ["agent-1"], "stays", cancellationToken: ct);
        await store.CreateSessionAsync(Replaced, ["someone-else"], "replaced by the archive's", cancellationToken: ct);
        await store.AddMessageAsync(new ChatMessage { Id = "old", SessionId = Replaced, Sender = "someone-else", Content = "before the restore" }, ct);
        var before = await SnapshotAsync(store, ct);

        // Now and then through a stream that cannot seek: spooled to a temporary file, which must go afterwards.
        Stream source = random.Next(16) == 0 ? new ForwardOnlyStream(bytes) : new MemoryStream(bytes);
        var (report, refused) = await Typed("RestoreAsync", () => store.RestoreAsync(source, RestoreMode.Replace, progress: null, ct), IsDocumentedRestoreError);
        var left = Directory.GetFileSystemEntries(Path.GetTempPath());
        Rule(left.Length == 0, $"the restore left files in the temp folder: {string.Join(", ", left)}");
        if (refused is not null)
        {
            Rule(damaged is not null || refused is ArgumentException, $"the restore found the archive damaged ({refused.Message}) although its check passed");
            Rule(damaged is null || refused is StoreCorruptedException, $"the restore got past a damage its check found ({damaged?.Message}): {refused.Message}");
            var after = await SnapshotAsync(store, ct);
            Rule(after.SequenceEqual(before), $"a refused restore changed the store:\nbefore {string.Join(" | ", before)}\nafter  {string.Join(" | ", after)}");
            return $"{depth}: refused ({refused.GetType().Name}{(damaged is null ? ", check passed" : "")})";
        }

        Rule(damaged is null, $"the restore wrote an archive its check refused: {damaged?.Message}");
        Rule(report!.Sessions == info!.Sessions && report.Messages == info.Messages, $"restored {report.Sessions} sessions and {report.Messages} messages of an archive holding {info.Sessions} and {info.Messages}");
        var restored = await SnapshotAsync(store, ct);
        Rule(restored.Contains(before.First(s => s.StartsWith(Kept + ":", StringComparison.Ordinal))), "the session not in the archive changed");
        return $"{depth}: restored{(iteration % 97 == 0 ? " (as written)" : "")}";
    }

    /// <summary>
    /// The restore's own refusals: a damaged archive, or a record this store cannot take, named as such. Any other
    /// ArgumentException (an index out of range, a duplicate key) would be a bug surfacing as an argument error.
    /// </summary>
    private static bool IsDocumentedRestoreError(Exception ex) =>
        ex is StoreCorruptedException
        || (ex.GetType() == typeof(ArgumentException) && ex.Message.StartsWith("The archive's session", StringComparison.Ordinal));

    /// <summary>Every session and its messages (both orders), as text: the whole store, read through the API.</summary>
    private static async Task<List<string>> SnapshotAsync(SessionPersistence store, CancellationToken ct)
    {
        var sessions = (await store.ListSessionsAsync(new SessionQuery { Limit = 1000 }, ct)).Sessions;
        var snapshot = new List<string>();
        foreach (var session in sessions.OrderBy(s => s.SessionId, StringComparer.Ordinal))
        {
            var oldest = (await store.GetMessagesAsync(session.SessionId, new MessageQuery { Limit = 10_000 }, ct)).Messages;
            var newest = (await store.GetMessagesAsync(session.SessionId, new MessageQuery { Limit = 10_000, Order = MessageOrder.NewestFirst }, ct)).Messages;
            Rule(newest.Select(m => m.Sequence).SequenceEqual(oldest.Select(m => m.Sequence).Reverse()), $"session {session.SessionId} reads differently newest first");
            snapshot.Add($"{session.SessionId}: v{session.Version} n{session.MessageCount} last{session.LastSequence} [{string.Join(",", session.Participants)}] {session.Title} {Show(oldest)} {string.Join(",", oldest.Select(m => m.Content.Length))}");
        }

        return snapshot;
    }

    private static SessionPersistence MemoryStore() => SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
}

// The quick start of README.md / DESIGN §3, verbatim between the markers, with the few names it leaves to the
// reader (batch, source, target) defined before it. scripts/verify-package.sh runs it against the packed .nupkg.
using Multichat.Persistence;

var workDir = Path.Combine(Path.GetTempPath(), "multichat-quickstart-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(workDir);
Environment.CurrentDirectory = workDir;
ChatMessage[] batch = [new() { Id = "m-2", SessionId = "s-1", Sender = "Agent-2", Content = "Hi" }];
await using var source = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
await source.CreateSessionAsync("other", ["Agent-3"]);
await using var target = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });

// --- quick start (verbatim) ---
await using var p = SessionPersistence.Create(new SessionPersistenceOptions
    { StorageType = StorageType.Json, StoragePath = "sessions" });          // Json | Sqlite | Memory | Redis
var s = await p.CreateSessionAsync("s-1", ["Agent-1", "Agent-2"]);
var m = await p.AddMessageAsync(new ChatMessage { Id = "m-1", SessionId = "s-1",
            Sender = "Agent-1", Recipient = "Agent-2", Content = "Hello" });   // m.Sequence == 1
IReadOnlyList<ChatMessage> last = await p.GetMessagesAsync("s-1", limit: 50); // latest 50, oldest first
MessagePage page = await p.GetMessagesAsync("s-1", new MessageQuery { BeforeSequence = 51 });
ChatSession? got = await p.GetSessionAsync("s-1");
await p.UpdateSessionAsync(got! with { Title = "t" });                     // Version checked
SessionPage sessions = await p.ListSessionsAsync(new SessionQuery { Participant = "Agent-1" });
await p.AddMessagesAsync("s-1", batch);      // atomic batch
await p.DeleteSessionAsync("s-1");
CleanupReport r = await p.CleanupAsync();    // retention + limits per options
await p.BackupAsync("backup.mcbak"); await p.RestoreAsync("backup.mcbak");   // also Stream overloads
await target.ImportAsync(source.ExportAsync());                             // migration between any stores
HealthReport h = await p.CheckHealthAsync();  StoreStatistics st = await p.GetStatisticsAsync();
// --- end of quick start ---

// What the comments of the quick start promise, checked.
Check(m.Sequence == 1, "the first message gets sequence 1");
Check(last.Count == 1 && last[0].Id == "m-1", "latest messages read back");
Check(page.Messages.Count == 1, "a page before sequence 51 holds the message");
Check(sessions.Sessions.Count == 1, "listing by participant finds the session");
try
{
    await p.CreateSessionAsync("c", ["a"]);
    var stale = (await p.GetSessionAsync("c"))!;
    await p.UpdateSessionAsync(stale with { Title = "first" });
    await p.UpdateSessionAsync(stale with { Title = "stale" });
    Check(false, "a stale update is refused");
}
catch (ConcurrencyConflictException)
{
}

Check(await p.GetSessionAsync("s-1") is null, "the deleted session is gone");
Check(r.ExpiredSessions == 0, "cleanup without limits removes nothing");
Check(h.IsHealthy, "the store is healthy");
Check(st.SessionCount == 0, "statistics count the sessions (s-1 was deleted)");
Check(await target.GetSessionAsync("other") is not null, "import copied the source's session");
Console.WriteLine($"quick start OK against the packed package (session {s.SessionId}, store {h.Store}).");
Directory.Delete(workDir, recursive: true);

static void Check(bool condition, string what)
{
    if (!condition)
    {
        Console.Error.WriteLine($"quick start check failed: {what}");
        Environment.Exit(1);
    }
}

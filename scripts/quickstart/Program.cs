// The README quick start as a checked program. scripts/verify-package.sh puts the README's snippet, verbatim, in
// place of the marker below (its using directives go first) and runs the result against the packed .nupkg, so
// the snippet users copy is the code that is compiled. Afterwards this checks what the snippet's comments promise.
var workDir = Path.Combine(Path.GetTempPath(), "multichat-quickstart-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(workDir);
Environment.CurrentDirectory = workDir;

// {README quick start}

Check(m.Sequence == 1, "the first message gets sequence 1");
Check(last.Count == 1 && last[0].Id == "m-1", "latest messages read back");
Check(page.Messages.Count == 1, "a page before sequence 51 holds the message");
Check(got?.Version == 1, "a new session has version 1");
Check(sessions.Sessions.Count == 1, "listing by participant finds the session");
Check((await copy.GetMessagesAsync("s-1", limit: 50)).Count == 2, "the migration copied the session with both messages");
Check(r.ExpiredSessions == 0, "cleanup without limits removes nothing");
Check(h.IsHealthy, "the store is healthy");
Check(st.SessionCount == 1 && st.MessageCount == 2, "statistics count the session and its messages");
Check(await p.GetSessionAsync("s-1") is null, "the deleted session is gone");
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

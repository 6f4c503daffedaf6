using System.Globalization;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Restores an archive (RestoreMode.Replace) and prints "progress &lt;sessionsDone&gt; &lt;messagesDone&gt;" as it goes, so a
/// parent can SIGKILL it half-way and check every session is either as it was or as in the archive:
/// <c>TestWorker restore &lt;storageType&gt; &lt;location&gt; &lt;archivePath&gt; [redisKeyPrefix] [--hold-after &lt;messages&gt;]</c>.
/// With --hold-after, the first progress report at or past that many messages prints "holding" and blocks the restore
/// there (inside a session's replacement) until the parent kills the process, so the kill lands half-way however fast
/// the restore would otherwise run. Prints "restored" at the end.
/// </summary>
internal static class RestoreArchiveMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var at = Array.IndexOf(args, "--hold-after");
        var hold = at > 0 ? long.Parse(args[at + 1], CultureInfo.InvariantCulture) : long.MaxValue;
        var prefix = args.Length > 4 && !args[4].StartsWith("--", StringComparison.Ordinal) ? args[4] : null;
        var options = WorkerOptions.For(args[1], args[2], Durability.Normal, prefix);
        await using var persistence = SessionPersistence.Create(options);
        Print("ready");
        await persistence.RestoreAsync(args[3], RestoreMode.Replace, new PrintedProgress(hold));
        Print("restored");
        return 0;
    }

    private static void Print(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }

    private sealed class PrintedProgress(long holdAfter) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            Print(string.Create(CultureInfo.InvariantCulture, $"progress {value.SessionsDone} {value.MessagesDone}"));
            if (value.MessagesDone >= holdAfter)
            {
                Print("holding");
                Thread.Sleep(Timeout.Infinite); // until the parent's SIGKILL
            }
        }
    }
}

using System.Globalization;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Restores an archive (RestoreMode.Replace) and prints "progress &lt;sessionsDone&gt; &lt;messagesDone&gt;" as it goes, so a
/// parent can SIGKILL it half-way and check every session is either as it was or as in the archive:
/// <c>TestWorker restore &lt;storageType&gt; &lt;location&gt; &lt;archivePath&gt; [redisKeyPrefix]</c>. Prints "restored" at the end.
/// </summary>
internal static class RestoreArchiveMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = WorkerOptions.For(args[1], args[2], Durability.Normal, args.Length > 4 ? args[4] : null);
        await using var persistence = SessionPersistence.Create(options);
        Print("ready");
        await persistence.RestoreAsync(args[3], RestoreMode.Replace, new PrintedProgress());
        Print("restored");
        return 0;
    }

    private static void Print(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }

    private sealed class PrintedProgress : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) =>
            Print(string.Create(CultureInfo.InvariantCulture, $"progress {value.SessionsDone} {value.MessagesDone}"));
    }
}

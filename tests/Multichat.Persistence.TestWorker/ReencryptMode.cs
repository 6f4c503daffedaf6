using System.Globalization;

namespace Multichat.Persistence.TestWorker;

/// <summary>
/// Re-encrypts a store under a key and prints "progress &lt;sessionsDone&gt; &lt;messagesDone&gt;" as it goes, so a parent can
/// SIGKILL it half-way and check nothing was lost:
/// <c>TestWorker reencrypt &lt;storageType&gt; &lt;location&gt; &lt;currentKeyId&gt; &lt;id=base64[,id=base64…]&gt; [redisKeyPrefix] [--hold-after &lt;messages&gt;]</c>.
/// With --hold-after, the first progress report at or past that many messages prints "holding" and blocks the run
/// there (messages are counted as the store takes them, so inside a session's replacement) until the parent kills the
/// process. Prints "reencrypted &lt;rewritten&gt; &lt;alreadyCurrent&gt;" at the end.
/// </summary>
internal static class ReencryptMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var at = Array.IndexOf(args, "--hold-after");
        var hold = at > 0 ? long.Parse(args[at + 1], CultureInfo.InvariantCulture) : long.MaxValue;
        var prefix = args.Length > 5 && !args[5].StartsWith("--", StringComparison.Ordinal) ? args[5] : null;
        var options = WorkerOptions.For(args[1], args[2], Durability.Normal, prefix);
        options.Encryption.CurrentKeyId = args[3];
        foreach (var pair in args[4].Split(','))
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            options.Encryption.Keys[pair[..separator]] = pair[(separator + 1)..];
        }

        await using var persistence = SessionPersistence.Create(options);
        Print("ready");
        var report = await persistence.ReencryptAsync(new PrintedProgress(hold));
        Print(string.Create(CultureInfo.InvariantCulture, $"reencrypted {report.SessionsRewritten} {report.SessionsAlreadyCurrent}"));
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

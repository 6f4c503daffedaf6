using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// The seeded loop every fuzz target shares: iteration <c>i</c> of seed <c>s</c> gets its own <see cref="Random"/>, so
/// any one of them replays alone (<c>MULTICHAT_FUZZ_SEED=s MULTICHAT_FUZZ_ONLY=i</c>); each runs under a cancellation
/// token and a watchdog; violations are collected with their seed, iteration and mutation, and the outcome of every
/// iteration is tallied for the report.
/// </summary>
/// <remarks>
/// Settings: <c>MULTICHAT_FUZZ_ITERATIONS</c> (default 10,000 per target), <c>MULTICHAT_FUZZ_SEED</c> (default: the
/// target's fixed seed), <c>MULTICHAT_FUZZ_ONLY</c> (one iteration). A target fed
/// through several tests (the Json store: one per file) gives each its <c>share</c> of the count.
/// </remarks>
internal sealed class FuzzRun(string target, int defaultSeed, double share = 1)
{
    public const int DefaultIterations = 10_000;

    // Generous: an iteration takes ~2 ms; the watchdog only has to tell a hang from a slow machine.
    private static readonly TimeSpan IterationTimeout = TimeSpan.FromSeconds(10);

    private const int MaxViolations = 25;

    private readonly SortedDictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];
    private (double Milliseconds, int Iteration, string Input) _slowest;

    public int Seed { get; } = EnvironmentInt("MULTICHAT_FUZZ_SEED") ?? defaultSeed;

    /// <summary>How many inputs this run tries: its share of the target's count.</summary>
    public int Iterations => (int)Math.Ceiling(share * (EnvironmentInt("MULTICHAT_FUZZ_ITERATIONS") is > 0 and var n ? n : DefaultIterations));

    /// <summary>What iteration <paramref name="iteration"/> of this seed draws from: the same on every run and machine.</summary>
    public Random RandomFor(int iteration) => new(unchecked((Seed * 1_000_003) + iteration));

    /// <summary>
    /// Runs the iterations. <paramref name="iteration"/> returns the outcome to tally (what the target did with the
    /// input) and throws <see cref="FuzzViolationException"/> (or an assertion) for a broken rule; <paramref name="describe"/>
    /// says what the input was, for the failure message.
    /// </summary>
    public async Task RunAsync(Func<int, Random, FuzzCase, CancellationToken, Task<string>> iteration)
    {
        var only = EnvironmentInt("MULTICHAT_FUZZ_ONLY");
        var (from, to) = only is { } one ? (one, one + 1) : (0, Iterations);
        var clock = Stopwatch.StartNew();
        for (var i = from; i < to && _violations.Count < MaxViolations; i++)
        {
            var fuzzCase = new FuzzCase();
            var started = Stopwatch.GetTimestamp();
            using var timeout = new CancellationTokenSource(IterationTimeout);
            var work = Task.Run(() => iteration(i, RandomFor(i), fuzzCase, timeout.Token), CancellationToken.None);
            string outcome;
            try
            {
                // The token stops a slow await; the watchdog also catches a loop that never looks at it.
                outcome = await work.WaitAsync(IterationTimeout + TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _violations.Add(Describe(i, fuzzCase, $"hung: no answer within {IterationTimeout.TotalSeconds + 5:0} s"));
                break; // the hung iteration still holds its files: nothing after it would be meaningful
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                _violations.Add(Describe(i, fuzzCase, $"hung: cancelled after {IterationTimeout.TotalSeconds:0} s"));
                continue;
            }
            catch (Exception ex)
            {
                _violations.Add(Describe(i, fuzzCase, ex is FuzzViolationException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}"));
                outcome = "VIOLATION";
            }

            _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
            var took = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (took > _slowest.Milliseconds)
            {
                _slowest = (took, i, fuzzCase.Input);
            }
        }

        var report = Report(to - from, clock.Elapsed);
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Console.WriteLine(report);
        if (_violations.Count > 0)
        {
            Assert.Fail($"{_violations.Count} violation(s) (first {MaxViolations} stop the run); replay one with MULTICHAT_FUZZ_SEED={Seed} MULTICHAT_FUZZ_ONLY=<iteration>:\n"
                + string.Join("\n---\n", _violations) + "\n\n" + report);
        }
    }

    private string Describe(int iteration, FuzzCase fuzzCase, string what) =>
        string.Create(CultureInfo.InvariantCulture, $"{target}: seed {Seed} iteration {iteration}, input {fuzzCase.Input}: {what}");

    private string Report(int iterations, TimeSpan elapsed)
    {
        var report = new StringBuilder(string.Create(
            CultureInfo.InvariantCulture,
            $"Fuzz target {target}: seed {Seed}, {iterations} iterations in {elapsed.TotalSeconds:0.0} s ({elapsed.TotalMilliseconds / Math.Max(1, iterations):0.00} ms each; slowest {_slowest.Milliseconds:0} ms, iteration {_slowest.Iteration}: {Shorten(_slowest.Input)})\n"));
        foreach (var (outcome, count) in _outcomes)
        {
            report.Append(CultureInfo.InvariantCulture, $"{count,7}  {outcome}\n");
        }

        return report.ToString();
    }

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";

    private static int? EnvironmentInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>What one iteration fed the target, set by the iteration as soon as it knows, for the failure message.</summary>
internal sealed class FuzzCase
{
    public string Input { get; set; } = "(not built yet)";
}

/// <summary>A broken fuzzing rule; its message says which and with what.</summary>
public sealed class FuzzViolationException : Exception
{
    public FuzzViolationException()
    {
    }

    public FuzzViolationException(string message)
        : base(message)
    {
    }

    public FuzzViolationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

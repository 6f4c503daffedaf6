using System.Diagnostics;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>
/// Starts the TestWorker child process (built next to the tests) and collects the ids it acknowledged, so
/// multi-process and kill -9 tests can check that every acknowledged message was kept.
/// </summary>
public sealed class TestWorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<(string Id, long Sequence)> _acknowledged = [];
    private readonly List<(string Outcome, string Id)> _outcomes = [];
    private readonly List<string> _events = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _errors = new();
    private TaskCompletionSource _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestWorkerProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The path of the worker's dll, copied beside the tests by the project reference.</summary>
    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Multichat.Persistence.TestWorker.dll");

    /// <summary>Starts a worker; see the worker's Program.cs for the arguments.</summary>
    public static TestWorkerProcess Start(params string[] arguments)
    {
        if (!File.Exists(WorkerDll))
        {
            throw new InvalidOperationException($"The TestWorker is missing at {WorkerDll}; the test project's CopyTestWorker build step puts it there.");
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(WorkerDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var worker = new TestWorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (worker._errors)
                {
                    worker._errors.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>What the worker acknowledged so far (id, sequence), in order.</summary>
    public IReadOnlyList<(string Id, long Sequence)> Acknowledged
    {
        get
        {
            lock (_acknowledged)
            {
                return [.. _acknowledged];
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>What a create-sessions worker reported so far ("created" or "quota", id), in order.</summary>
    public IReadOnlyList<(string Outcome, string Id)> Outcomes
    {
        get
        {
            lock (_outcomes)
            {
                return [.. _outcomes];
            }
        }
    }

    /// <summary>Every other line a write worker printed ("point …", "crash …", "trimmed …", "updated …", "deleted",
    /// "imported …"), in order.</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The fault points a <c>--trace</c> write worker reported reaching, in order.</summary>
    public IReadOnlyList<string> PointsReached => [.. Events.Where(e => e.StartsWith("point ", StringComparison.Ordinal)).Select(e => e["point ".Length..])];

    /// <summary>Whether the worker killed itself at its <c>--crash-at</c> point.</summary>
    public bool Crashed => Events.Any(e => e.StartsWith("crash ", StringComparison.Ordinal));

    /// <summary>Completes when the worker opened its store and is about to write.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Tells a worker that waits on its standard input (create-sessions) to start.</summary>
    public void Go() => Send("go");

    /// <summary>Writes one line to the worker's standard input.</summary>
    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking it again after each line the worker prints.</summary>
    public async Task WaitUntilAsync(Func<TestWorkerProcess, bool> condition, TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        while (true)
        {
            Task arrived;
            lock (_events)
            {
                arrived = _lineArrived.Task;
            }

            if (condition(this))
            {
                return;
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The worker exited ({_process.ExitCode}) before the condition held: {StandardError}");
            }

            await arrived.WaitAsync(TimeSpan.FromMilliseconds(500), cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            cts.Token.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Kills the worker at once (SIGKILL on Unix): nothing of it runs after this returns.</summary>
    public void KillHard()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        _process.WaitForExit();
    }

    /// <summary>Waits for the worker to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line == "ready")
        {
            _ready.TrySetResult();
            return;
        }

        var parts = line.Split(' ');
        if (parts.Length == 3 && parts[0] == "ack")
        {
            lock (_acknowledged)
            {
                _acknowledged.Add((parts[1], long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        else if (parts.Length == 2 && parts[0] is "created" or "quota")
        {
            lock (_outcomes)
            {
                _outcomes.Add((parts[0], parts[1]));
            }
        }
        else
        {
            lock (_events)
            {
                _events.Add(line);
            }
        }

        lock (_events)
        {
            var arrived = _lineArrived;
            _lineArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            arrived.TrySetResult();
        }
    }
}

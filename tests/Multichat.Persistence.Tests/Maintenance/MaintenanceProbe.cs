using System.Threading.Channels;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>
/// Watches one instance's scheduled maintenance through its signals, so a test moves its fake clock only when every
/// task waits for a time after the current one: no sleeps, no races with the service's timers.
/// </summary>
internal sealed class MaintenanceProbe : MaintenanceSignals
{
    private readonly Channel<(string Task, DateTimeOffset Due)> _waiting = Channel.CreateUnbounded<(string, DateTimeOffset)>();
    private readonly List<MaintenanceRoundResult> _finished = [];
    private readonly Dictionary<string, DateTimeOffset> _nextDue = [];

    public IReadOnlyList<MaintenanceRoundResult> Results
    {
        get
        {
            lock (_finished)
            {
                return [.. _finished];
            }
        }
    }

    public override void Waiting(string task, DateTimeOffset due) => _waiting.Writer.TryWrite((task, due));

    public override void Finished(MaintenanceRoundResult result)
    {
        lock (_finished)
        {
            _finished.Add(result);
        }
    }

    /// <summary>Waits until <paramref name="task"/> waits for a time after <paramref name="now"/>, and returns it.</summary>
    public async Task<DateTimeOffset> IdleAfterAsync(string task, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (!(_nextDue.TryGetValue(task, out var due) && due > now))
        {
            var (waitingTask, waitingDue) = await _waiting.Reader.ReadAsync(timeout.Token);
            _nextDue[waitingTask] = waitingDue;
        }

        return _nextDue[task];
    }

    public int Count(string task, string outcome) => Results.Count(r => r.Task == task && r.Outcome == outcome);
}

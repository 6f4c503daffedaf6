namespace Multichat.Persistence.Maintenance;

/// <summary>
/// Leases for a store only one process can reach (the Memory store, or an application's own <see cref="ISessionStore"/>
/// that offers none): the instances of this process agree through this object.
/// </summary>
internal sealed class MemoryMaintenanceLeases(TimeProvider timeProvider) : IMaintenanceLeases
{
    private readonly Dictionary<string, MaintenanceTaskState> _tasks = [];

    public Task<MaintenanceClaim> TryClaimAsync(string task, long round, string holder, TimeSpan leaseTime, CancellationToken cancellationToken)
    {
        lock (_tasks)
        {
            var (claim, next) = State(task).Claim(round, holder, timeProvider.GetUtcNow(), leaseTime);
            _tasks[task] = next;
            return Task.FromResult(claim);
        }
    }

    public Task<bool> RenewAsync(string task, string holder, TimeSpan leaseTime, CancellationToken cancellationToken)
    {
        lock (_tasks)
        {
            if (State(task).Renew(holder, timeProvider.GetUtcNow(), leaseTime) is not { } next)
            {
                return Task.FromResult(false);
            }

            _tasks[task] = next;
            return Task.FromResult(true);
        }
    }

    public Task CompleteAsync(string task, long round, string holder, DateTimeOffset completedAt, CancellationToken cancellationToken)
    {
        lock (_tasks)
        {
            _tasks[task] = State(task).Complete(round, holder, completedAt);
        }

        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string task, string holder, CancellationToken cancellationToken)
    {
        lock (_tasks)
        {
            _tasks[task] = State(task).Release(holder);
        }

        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> LastCompletedAsync(string task, CancellationToken cancellationToken)
    {
        lock (_tasks)
        {
            return Task.FromResult(State(task).CompletedAt);
        }
    }

    private MaintenanceTaskState State(string task) => _tasks.GetValueOrDefault(task) ?? MaintenanceTaskState.Empty;
}

namespace Multichat.Persistence.Feed;

/// <summary>
/// One watcher's wake-up flag (auto-reset): <see cref="Set"/> any number of times, and the next
/// <see cref="WaitAsync"/> returns at once, then waits again. A hint set while the watcher was reading is kept, so a
/// watcher that listens before it reads never sleeps through a message.
/// </summary>
internal sealed class MessageSignal(Action<MessageSignal>? onDispose = null) : IDisposable
{
    private readonly object _gate = new();
    private bool _set;
    private TaskCompletionSource? _waiter;
    private int _disposed;

    /// <summary>Wakes the watcher (or the next wait, when it is not waiting now).</summary>
    public void Set()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _waiter;
            _waiter = null;
            _set = waiter is null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>Returns when a hint was set since the last wait, or after <paramref name="timeout"/>.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_set)
            {
                _set = false;
                return;
            }

            waiter = _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        try
        {
            await waiter.Task.WaitAsync(timeout, clock, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // No hint in time: the caller reads the store anyway. The waiter goes, so a hint set while it reads is kept
            // as the flag (a hint completing an abandoned waiter would be lost).
            lock (_gate)
            {
                if (ReferenceEquals(_waiter, waiter))
                {
                    _waiter = null;
                }
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            onDispose?.Invoke(this);
        }
    }
}

using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>
/// The in-process half of the fault-injection suite, after SQLite's I/O-error tests: a first run of a write records
/// the fault points it reaches; then, for each k, a fresh run makes the k-th point reached throw an
/// <see cref="IOException"/> (as a failed write, flush, rename or commit would) and the test checks what the store
/// kept. Pass <see cref="Injection"/> as <c>SessionPersistenceOptions.FaultInjection</c>.
/// </summary>
public sealed class InjectedIoFaults
{
    private readonly List<string> _reached = [];
    private int _failAt;

    public InjectedIoFaults()
    {
        Injection = new FaultInjection(OnReached);
    }

    /// <summary>The hook to hand to the store.</summary>
    internal FaultInjection Injection { get; }

    /// <summary>The points reached since the last <see cref="FailAt"/> or <see cref="Trace"/>, in order.</summary>
    public IReadOnlyList<string> Reached
    {
        get
        {
            lock (_reached)
            {
                return [.. _reached];
            }
        }
    }

    /// <summary>The point that threw, once one did.</summary>
    public string? Fired { get; private set; }

    /// <summary>From now on only record the points reached.</summary>
    public void Trace() => Arm(0);

    /// <summary>Makes the <paramref name="k"/>-th point reached from now on (1-based) throw, once.</summary>
    public void FailAt(int k) => Arm(k);

    private void Arm(int k)
    {
        lock (_reached)
        {
            _reached.Clear();
            _failAt = k;
            Fired = null;
        }
    }

    private void OnReached(string point)
    {
        lock (_reached)
        {
            _reached.Add(point);
            if (_reached.Count != _failAt)
            {
                return;
            }

            Fired = point;
        }

        throw new IOException($"Injected I/O error at fault point {point}.");
    }
}

namespace Multichat.Persistence.Internal;

/// <summary>
/// The fault-injection tests' window into a store's write path, in the spirit of SQLite's test hooks: a store calls
/// <see cref="Reach"/> at each named step of a write (before and after each file write, flush, rename, delete and
/// commit), and a test makes that step fail with an <see cref="IOException"/> or kills the process there. Stores opened
/// by an application have none, so the cost is one null check per step.
/// </summary>
/// <param name="reached">Called with the point's name; it may throw (the step fails) or end the process.</param>
internal sealed class FaultInjection(Action<string> reached)
{
    /// <summary>Tells the test that the write reached <paramref name="point"/>.</summary>
    public void Reach(string point) => reached(point);
}

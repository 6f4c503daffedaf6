namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// The fuzz targets run one after another, not beside other tests: each is CPU-bound for ~20 s, and its timing (and so
/// the per-iteration watchdog) must not depend on what else the runner schedules on a 2-core machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzGroup
{
    public const string Name = "Fuzzing";
}

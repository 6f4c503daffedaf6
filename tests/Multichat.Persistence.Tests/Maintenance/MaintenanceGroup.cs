namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>The scheduled-maintenance tests run one at a time: they count the package's (process-wide) meter.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MaintenanceGroup
{
    public const string Name = "Scheduled maintenance";
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using MsHealthStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus;

namespace Multichat.Persistence.Diagnostics;

/// <summary>An <see cref="IHealthCheck"/> over <see cref="SessionPersistence.CheckHealthAsync"/>; a failure reports the registration's failure status and the exception.</summary>
internal sealed class SessionPersistenceHealthCheck(SessionPersistence persistence) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var report = await persistence.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object> { ["store"] = report.Store, ["duration_ms"] = report.Duration.TotalMilliseconds };
        return report.Status switch
        {
            StoreHealthStatus.Healthy => HealthCheckResult.Healthy(report.Description, data),
            StoreHealthStatus.Degraded => HealthCheckResult.Degraded(report.Description, report.Exception, data),
            _ => new HealthCheckResult(context.Registration.FailureStatus, report.Description, report.Exception, data),
        };
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Multichat.Persistence;
using Multichat.Persistence.Diagnostics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the session store to ASP.NET Core / generic-host health checks.</summary>
public static class SessionPersistenceHealthChecksBuilderExtensions
{
    /// <summary>Checks the registered <see cref="SessionPersistence"/>'s store.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name; default <c>multichat-persistence</c>.</param>
    /// <param name="failureStatus">Reported when the store fails; default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <param name="timeout">How long the check may take; default none.</param>
    public static IHealthChecksBuilder AddSessionPersistence(
        this IHealthChecksBuilder builder,
        string name = "multichat-persistence",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new SessionPersistenceHealthCheck(sp.GetRequiredService<SessionPersistence>()),
            failureStatus,
            tags,
            timeout));
    }
}

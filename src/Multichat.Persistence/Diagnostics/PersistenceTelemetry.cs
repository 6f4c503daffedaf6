using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Multichat.Persistence.Diagnostics;

/// <summary>
/// The package's <see cref="Meter"/> and <see cref="ActivitySource"/>, both named <c>Multichat.Persistence</c>.
/// Instruments are created once; tags are low-cardinality on purpose (store, operation, outcome), never ids.
/// </summary>
internal static class PersistenceTelemetry
{
    public const string Name = "Multichat.Persistence";

    public static readonly ActivitySource ActivitySource = new(Name, typeof(PersistenceTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(PersistenceTelemetry).Assembly.GetName().Version?.ToString());

    // One measurement per operation, as OpenTelemetry's database conventions do: the histogram's count is the number
    // of operations, and its outcome attribute splits them (a separate counter would double the cost of a call).
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "multichat.persistence.operation.duration", "s", "How long operations took, tagged by store, operation and outcome; its count is the number of operations.");

    public static readonly Counter<long> MessagesWritten = Meter.CreateCounter<long>(
        "multichat.persistence.messages.written", "{message}", "Messages acknowledged by appends (an idempotent retry counts again).");

    public static readonly Counter<long> ContentBytes = Meter.CreateCounter<long>(
        "multichat.persistence.content.size", "By", "UTF-16 bytes of message content acknowledged by appends.");

    public static readonly Counter<long> SessionsEvicted = Meter.CreateCounter<long>(
        "multichat.persistence.sessions.evicted", "{session}", "Sessions deleted by a create under SessionLimitPolicy.EvictLeastRecentlyActive, tagged by store.");

    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>(
        "multichat.persistence.cache.hits", "{read}", "Reads the read cache answered from memory (with the defaults, after the store confirmed the head), tagged by store.");

    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>(
        "multichat.persistence.cache.misses", "{read}", "Reads the read cache passed to the store, tagged by store.");

    public static readonly Counter<long> MaintenanceRounds = Meter.CreateCounter<long>(
        "multichat.persistence.maintenance.rounds", "{round}", "Scheduled maintenance rounds, tagged by task (cleanup, backup) and outcome.");
}

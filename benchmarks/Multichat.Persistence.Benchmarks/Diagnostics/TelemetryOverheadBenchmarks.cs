using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;

namespace Multichat.Persistence.Benchmarks.Diagnostics;

/// <summary>
/// What observing the library costs (issue 15's goal: the facade over Memory with a <see cref="MeterListener"/> and an
/// <see cref="ActivityListener"/> attached within 15 % of without): the same appends and latest-50 reads with nothing
/// listening, with both listeners attached taking every measurement while the trace sampler records no span of these
/// calls (an OpenTelemetry SDK with a ratio sampler, for all calls it does not sample), and with every span recorded
/// too. Memory is the store where the library's own overhead is the largest share of a call.
/// </summary>
[MemoryDiagnoser]
public class TelemetryOverheadBenchmarks
{
    private const int OperationsPerInvoke = 10_000;

    private SessionPersistence _persistence = null!;
    private ChatMessage[] _messages = null!;
    private MeterListener? _meters;
    private ActivityListener? _activities;
    private long _measurements;
    private int _round;

    /// <summary>Who observes the library.</summary>
    public enum Observers
    {
        /// <summary>Nothing listens.</summary>
        None,

        /// <summary>Every measurement taken; spans sampled out (propagated, not recorded).</summary>
        MetricsUnsampledSpans,

        /// <summary>Every measurement taken and every span recorded.</summary>
        MetricsAndEverySpan,
    }

    [Params(Observers.None, Observers.MetricsUnsampledSpans, Observers.MetricsAndEverySpan)]
    public Observers Listening { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        if (Listening != Observers.None)
        {
            _meters = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == "Multichat.Persistence")
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _meters.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _measurements));
            _meters.Start();
            _activities = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Multichat.Persistence",
                Sample = Listening == Observers.MetricsAndEverySpan
                    ? (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded
                    : (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            };
            ActivitySource.AddActivityListener(_activities);
        }

        _persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        _messages = [.. Enumerable.Range(0, OperationsPerInvoke).Select(i => new ChatMessage
        {
            Id = $"m-{i}", SessionId = "bench", Sender = "Agent-1", Recipient = "Agent-2", Content = "A typical short agent message of some sixty characters.",
        })];
        await _persistence.CreateSessionAsync("read", ["Agent-1", "Agent-2"]);
        await _persistence.AddMessagesAsync("read", _messages.Take(1000).Select(m => m with { SessionId = "read" }));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _persistence.DisposeAsync();
        _meters?.Dispose();
        _activities?.Dispose();
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke, Description = "AddMessageAsync")]
    public async Task Append()
    {
        var sessionId = $"append-{++_round}";
        await _persistence.CreateSessionAsync(sessionId, ["Agent-1", "Agent-2"]);
        foreach (var message in _messages)
        {
            await _persistence.AddMessageAsync(message with { SessionId = sessionId });
        }

        await _persistence.DeleteSessionAsync(sessionId);
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke, Description = "GetMessagesAsync latest 50")]
    public async Task LatestFifty()
    {
        for (var i = 0; i < OperationsPerInvoke; i++)
        {
            await _persistence.GetMessagesAsync("read", 50);
        }
    }
}

using System.Diagnostics.Metrics;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Facade;

/// <summary>The read-state calls, composed in the facade from several store calls, are measured as one operation each.</summary>
public sealed class ReadStateTelemetryTests
{
    [Fact]
    public async Task ReadStateCalls_AreMeasuredByTheDurationHistogram()
    {
        var operations = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Multichat.Persistence" && instrument.Name == "multichat.persistence.operation.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var all = tags.ToArray();
            lock (operations)
            {
                operations.Add($"{all.Single(t => t.Key == "multichat.operation").Value}:{all.Single(t => t.Key == "multichat.outcome").Value}");
            }
        });
        listener.Start();
        var ct = TestContext.Current.CancellationToken;
        await using var persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = StorageType.Memory });
        await persistence.CreateSessionAsync("telemetry-read", ["a", "b"], cancellationToken: ct);
        await persistence.AddMessageAsync(new ChatMessage { Id = "m", SessionId = "telemetry-read", Sender = "a", Content = "hi" }, ct);

        await persistence.GetInboxAsync("b", cancellationToken: ct);
        await persistence.GetReadStateAsync("telemetry-read", "b", ct);
        await persistence.MarkReadAsync("telemetry-read", "b", 1, ct);
        var missing = () => persistence.GetReadStateAsync("no-such-session", "b", ct);
        await missing.Should().ThrowAsync<SessionNotFoundException>();

        lock (operations)
        {
            operations.Should().Contain(["get_inbox:ok", "get_read_state:ok", "mark_read:ok", "get_read_state:not_found"]);
        }
    }
}

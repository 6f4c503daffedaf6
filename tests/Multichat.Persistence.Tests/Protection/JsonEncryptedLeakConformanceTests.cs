using System.Diagnostics;
using System.Runtime.ExceptionServices;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>
/// The whole conformance suite on the Json store with encryption on, capturing every log event, every exception the
/// library throws and every tag and event of its traces, then checking that none holds plain text the tests wrote:
/// the suite's messages all carry <c>"chat-text:"</c> (see <c>Message</c>), so that is the marker.
/// </summary>
public sealed class JsonEncryptedLeakConformanceTests : JsonStoreConformanceTests
{
    private const string Marker = "chat-text:";

    private readonly CapturingLoggerFactory _logs = new();
    private readonly List<string> _thrown = [];
    private readonly List<string> _traced = [];
    private readonly ActivityListener _listener;

    public JsonEncryptedLeakConformanceTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Multichat.Persistence",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Record,
        };
        ActivitySource.AddActivityListener(_listener);
        AppDomain.CurrentDomain.FirstChanceException += OnThrown;
    }

    protected override ILoggerFactory? Logs => _logs;

    protected override void ConfigureLayers(SessionPersistenceOptions options) => ProtectionSettings.Encrypt(options);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        AppDomain.CurrentDomain.FirstChanceException -= OnThrown;
        _listener.Dispose();

        _logs.Events.Select(e => e.Message).Should().NotContain(m => m.Contains(Marker, StringComparison.Ordinal), "log events never hold content");
        lock (_thrown)
        {
            _thrown.Should().NotContain(m => m.Contains(Marker, StringComparison.Ordinal), "exceptions never hold content");
        }

        lock (_traced)
        {
            _traced.Should().NotContain(t => t.Contains(Marker, StringComparison.Ordinal), "trace tags never hold content");
        }

        _logs.Dispose();
    }

    private void OnThrown(object? sender, FirstChanceExceptionEventArgs e)
    {
        // Only what the library throws (other tests run in parallel; an assertion message of theirs may quote content).
        if (e.Exception is SessionPersistenceException or ArgumentException or InvalidOperationException or IOException
            && e.Exception.TargetSite?.DeclaringType?.Assembly == typeof(SessionPersistence).Assembly)
        {
            lock (_thrown)
            {
                _thrown.Add(e.Exception.ToString());
            }
        }
    }

    private void Record(Activity activity)
    {
        lock (_traced)
        {
            _traced.Add(activity.DisplayName);
            _traced.AddRange(activity.TagObjects.Select(t => $"{t.Key}={t.Value}"));
            _traced.AddRange(activity.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")));
        }
    }
}

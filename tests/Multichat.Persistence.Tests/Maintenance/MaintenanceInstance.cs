using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>
/// One application instance as DI builds it (the facade and the scheduled maintenance), on a shared fake clock, with a
/// probe on its maintenance. Several of these over one folder or Redis are the instances that share a store.
/// </summary>
internal sealed class MaintenanceInstance : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly SessionMaintenanceService _service;

    private MaintenanceInstance(ServiceProvider provider)
    {
        _provider = provider;
        _service = (SessionMaintenanceService)provider.GetServices<IHostedService>().Single(s => s is SessionMaintenanceService);
        _service.Signals = Probe;
        Persistence = provider.GetRequiredService<SessionPersistence>();
    }

    public MaintenanceProbe Probe { get; } = new();

    public SessionPersistence Persistence { get; }

    /// <summary>The maintenance service's run (completed when it has nothing to do, or after stop).</summary>
    public Task ExecuteTask => _service.ExecuteTask!;

    public static async Task<MaintenanceInstance> StartAsync(FakeTimeProvider clock, Action<SessionPersistenceOptions> configure)
    {
        var provider = new ServiceCollection()
            .AddSessionPersistence(options =>
            {
                configure(options);
                options.TimeProvider = clock;
            })
            .BuildServiceProvider();
        var instance = new MaintenanceInstance(provider);
        await instance._service.StartAsync(CancellationToken.None);
        return instance;
    }

    /// <summary>
    /// Moves the clock from one due time to the next, each time only once every instance's <paramref name="task"/>
    /// waits for a later time, until the next due time is after <paramref name="until"/>.
    /// </summary>
    public static async Task AdvanceThroughAsync(FakeTimeProvider clock, IReadOnlyList<MaintenanceInstance> instances, string task, DateTimeOffset until)
    {
        while (true)
        {
            var next = DateTimeOffset.MaxValue;
            foreach (var instance in instances)
            {
                var due = await instance.Probe.IdleAfterAsync(task, clock.GetUtcNow(), TestContext.Current.CancellationToken);
                next = due < next ? due : next;
            }

            if (next > until)
            {
                return;
            }

            clock.SetUtcNow(next);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _service.StopAsync(CancellationToken.None);
        await _provider.DisposeAsync();
    }
}

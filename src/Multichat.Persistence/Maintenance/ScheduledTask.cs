using Microsoft.Extensions.Logging;

namespace Multichat.Persistence.Maintenance;

/// <summary>
/// One scheduled task (cleanup or backup) of one instance: waits for each round's start on the options' clock, runs
/// the round if it wins the round's lease, and otherwise leaves it to the instance that did, trying again when that
/// instance's lease expires in case it died. A failed round is reported and left for the next round; nothing here
/// throws except on cancellation, so the host never stops because of maintenance.
/// </summary>
internal sealed class ScheduledTask(
    string name,
    TimeSpan interval,
    Func<long, CancellationToken, Task> work,
    IMaintenanceLeases leases,
    string holder,
    TimeProvider timeProvider,
    ILogger logger,
    MaintenanceSignals signals)
{
    /// <summary>How long a round's lease lasts unless renewed; the holder renews it every third of this.</summary>
    public static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(2);

    public string Name => name;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var round = MaintenanceRounds.At(timeProvider.GetUtcNow(), interval);
        while (!stoppingToken.IsCancellationRequested)
        {
            round++;
            await WaitUntilAsync(MaintenanceRounds.Start(round, interval), stoppingToken).ConfigureAwait(false);
            while (await RunRoundAsync(round, stoppingToken).ConfigureAwait(false) is { } heldUntil
                && heldUntil < MaintenanceRounds.Start(round + 1, interval))
            {
                // Another instance holds the round. It may have died with it: look again when its lease expires.
                await WaitUntilAsync(heldUntil, stoppingToken).ConfigureAwait(false);
            }

            // A round that ran past later rounds' starts: run the round in progress now, once, instead of every one missed.
            round = Math.Max(round, MaintenanceRounds.At(timeProvider.GetUtcNow(), interval) - 1);
        }
    }

    /// <summary>Runs <paramref name="round"/> if this instance wins it; returns when another instance's lease on it
    /// expires, or <see langword="null"/> when there is nothing more to do for it.</summary>
    private async Task<DateTimeOffset?> RunRoundAsync(long round, CancellationToken stoppingToken)
    {
        MaintenanceClaim claim;
        try
        {
            claim = await leases.TryClaimAsync(name, round, holder, LeaseTime, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            Finish(new MaintenanceRoundResult(name, round, "failed", ex));
            return null;
        }

        if (!claim.Claimed)
        {
            Finish(new MaintenanceRoundResult(name, round, claim.HeldUntil is null ? "done-elsewhere" : "held-elsewhere"));
            return claim.HeldUntil;
        }

        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewal = timeProvider.CreateTimer(_ => _ = RenewAsync(round, lost), null, LeaseTime / 3, LeaseTime / 3);
        try
        {
            await work(round, lost.Token).ConfigureAwait(false);
            await renewal.DisposeAsync().ConfigureAwait(false);
            await leases.CompleteAsync(name, round, holder, timeProvider.GetUtcNow(), stoppingToken).ConfigureAwait(false);
            Finish(new MaintenanceRoundResult(name, round, "completed"));
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            await renewal.DisposeAsync().ConfigureAwait(false);
            Finish(new MaintenanceRoundResult(name, round, "failed", ex));
            try
            {
                await leases.ReleaseAsync(name, holder, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception releaseError)
            {
                // The lease then expires by itself; the next round is not blocked for longer than LeaseTime.
                MaintenanceLog.RoundFailed(logger, name + " release", round, releaseError);
            }
        }
        finally
        {
            await renewal.DisposeAsync().ConfigureAwait(false);
        }

        return null;
    }

    private async Task RenewAsync(long round, CancellationTokenSource lost)
    {
        try
        {
            if (!await leases.RenewAsync(name, holder, LeaseTime, lost.Token).ConfigureAwait(false))
            {
                // Another instance took the round over (this one stalled past its lease): stop, it runs the round.
                MaintenanceLog.LeaseLost(logger, name, round);
                await lost.CancelAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The round ended while the renewal was on its way.
        }
        catch (Exception ex)
        {
            // One failed renewal is not a lost lease: the next one, a third of the lease later, tries again.
            MaintenanceLog.RoundFailed(logger, name + " lease renewal", round, ex);
        }
    }

    private async Task WaitUntilAsync(DateTimeOffset due, CancellationToken stoppingToken)
    {
        var delay = due - timeProvider.GetUtcNow();
        // The timer is registered before the signal, so a test that advances its clock on the signal never misses it.
        var waiting = delay > TimeSpan.Zero ? Task.Delay(delay, timeProvider, stoppingToken) : Task.CompletedTask;
        signals.Waiting(name, due);
        // Forced yield: a fake clock completes the delay inside the test's Advance call, and the round must not run there.
        await waiting.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
    }

    private void Finish(MaintenanceRoundResult result)
    {
        switch (result.Outcome)
        {
            case "completed":
                MaintenanceLog.RoundCompleted(logger, result.Task, result.Round);
                break;
            case "failed":
                MaintenanceLog.RoundFailed(logger, result.Task, result.Round, result.Error!);
                break;
            default:
                MaintenanceLog.RoundElsewhere(logger, result.Task, result.Round, result.Outcome);
                break;
        }

        Diagnostics.PersistenceTelemetry.MaintenanceRounds.Add(
            1, new KeyValuePair<string, object?>("task", result.Task), new KeyValuePair<string, object?>("outcome", result.Outcome));
        signals.Finished(result);
    }
}

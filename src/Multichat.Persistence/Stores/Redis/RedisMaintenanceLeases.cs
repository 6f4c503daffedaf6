using Multichat.Persistence.Maintenance;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The scheduled maintenance's leases in Redis, shared by every instance on every machine: per task, a lease key taken
/// with <c>SET NX PX</c> and a token, released by compare-and-delete, and a small hash with the latest completed
/// round. Both keys carry the task as their hash tag, so each script touches one slot (Redis Cluster). The lease's
/// expiry is the server's (<c>PX</c>), so an instance that dies holding it loses it even if no other instance's clock
/// agrees with its own.
/// </summary>
internal sealed class RedisMaintenanceLeases(RedisScriptRunner runner, string prefix, TimeProvider timeProvider) : IMaintenanceLeases
{
    // KEYS: lease, done. ARGV: round, holder, lease ms. → {1, 0} claimed; {0, -1} done; {0, pttl} held by another.
    private const string ClaimScript = """
        local done = tonumber(redis.call('HGET', KEYS[2], 'round') or '0')
        if done >= tonumber(ARGV[1]) then return {0, -1} end
        if redis.call('GET', KEYS[1]) == ARGV[2] then
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
          return {1, 0}
        end
        if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return {1, 0} end
        return {0, redis.call('PTTL', KEYS[1])}
        """;

    // KEYS: lease. ARGV: holder, lease ms. → 1 renewed, 0 not ours.
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """;

    // KEYS: lease, done. ARGV: holder, round, completed-at (ISO 8601), 1 to record the round or 0 to only release.
    private const string FinishScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        if ARGV[4] == '1' and tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[2], 'round') or '0') then
          redis.call('HSET', KEYS[2], 'round', ARGV[2], 'at', ARGV[3])
        end
        return 1
        """;

    public async Task<MaintenanceClaim> TryClaimAsync(string task, long round, string holder, TimeSpan leaseTime, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await runner.EvaluateAsync(
            ClaimScript, [Lease(task), Done(task)], [round, holder, (long)leaseTime.TotalMilliseconds], cancellationToken).ConfigureAwait(false))!;
        var (claimed, pttl) = ((long)result[0], (long)result[1]);
        return claimed == 1 ? MaintenanceClaim.Won
            : pttl < 0 ? MaintenanceClaim.Done
            : MaintenanceClaim.HeldBy(timeProvider.GetUtcNow().AddMilliseconds(pttl));
    }

    public async Task<bool> RenewAsync(string task, string holder, TimeSpan leaseTime, CancellationToken cancellationToken) =>
        (long)(await runner.EvaluateAsync(RenewScript, [Lease(task)], [holder, (long)leaseTime.TotalMilliseconds], cancellationToken).ConfigureAwait(false)) == 1;

    public Task CompleteAsync(string task, long round, string holder, DateTimeOffset completedAt, CancellationToken cancellationToken) =>
        runner.EvaluateAsync(FinishScript, [Lease(task), Done(task)], [holder, round, completedAt.ToString("O"), 1], cancellationToken);

    public Task ReleaseAsync(string task, string holder, CancellationToken cancellationToken) =>
        runner.EvaluateAsync(FinishScript, [Lease(task), Done(task)], [holder, 0, string.Empty, 0], cancellationToken);

    public async Task<DateTimeOffset?> LastCompletedAsync(string task, CancellationToken cancellationToken)
    {
        var at = await runner.RunAsync(db => db.HashGetAsync(Done(task), "at"), cancellationToken).ConfigureAwait(false);
        return at.HasValue && DateTimeOffset.TryParse(at.ToString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var parsed)
            ? parsed
            : null;
    }

    private RedisKey Lease(string task) => $"{prefix}maintenance:{{{task}}}:lease";

    private RedisKey Done(string task) => $"{prefix}maintenance:{{{task}}}:done";
}

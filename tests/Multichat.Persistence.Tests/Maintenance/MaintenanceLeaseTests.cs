using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Multichat.Persistence.Maintenance;

namespace Multichat.Persistence.Tests.Maintenance;

/// <summary>The lease rules every lease store applies, on the file and in-process leases (the Redis ones have their
/// own tests against a real server).</summary>
public sealed class MaintenanceLeaseTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-lease-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));

    public static TheoryData<string> Kinds => new() { "file", "memory" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task TryClaim_HeldByAnother_IsRefusedUntilTheLeaseExpires(string kind)
    {
        var leases = Open(kind);
        (await leases.TryClaimAsync("backup", 7, "a", Lease, Ct)).Should().Be(MaintenanceClaim.Won);

        (await leases.TryClaimAsync("backup", 7, "b", Lease, Ct)).Should().Be(MaintenanceClaim.HeldBy(_clock.GetUtcNow() + Lease));
        _clock.Advance(Lease);
        (await leases.TryClaimAsync("backup", 7, "b", Lease, Ct)).Should().Be(MaintenanceClaim.Won, "a lease that expired is nobody's");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task TryClaim_RoundCompleted_IsDoneForEveryone(string kind)
    {
        var leases = Open(kind);
        await leases.TryClaimAsync("backup", 7, "a", Lease, Ct);
        await leases.CompleteAsync("backup", 7, "a", _clock.GetUtcNow(), Ct);

        (await leases.TryClaimAsync("backup", 7, "b", Lease, Ct)).Should().Be(MaintenanceClaim.Done);
        (await leases.TryClaimAsync("backup", 6, "b", Lease, Ct)).Should().Be(MaintenanceClaim.Done, "an older round is never run after a newer one");
        (await leases.TryClaimAsync("backup", 8, "b", Lease, Ct)).Should().Be(MaintenanceClaim.Won);
        (await leases.LastCompletedAsync("backup", Ct)).Should().Be(_clock.GetUtcNow());
        (await leases.LastCompletedAsync("cleanup", Ct)).Should().BeNull("tasks are independent");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Release_FailedRound_CanBeClaimedAgainAtOnce(string kind)
    {
        var leases = Open(kind);
        await leases.TryClaimAsync("cleanup", 3, "a", Lease, Ct);
        await leases.ReleaseAsync("cleanup", "a", Ct);

        (await leases.TryClaimAsync("cleanup", 3, "b", Lease, Ct)).Should().Be(MaintenanceClaim.Won);
        (await leases.RenewAsync("cleanup", "a", Lease, Ct)).Should().BeFalse("a released lease is not the releaser's any more");
        (await leases.RenewAsync("cleanup", "b", Lease, Ct)).Should().BeTrue();
    }

    [Fact]
    public async Task FileLeases_StateFileDamaged_StartAfreshInsteadOfFailing()
    {
        var leases = (FileMaintenanceLeases)Open("file");
        await leases.TryClaimAsync("backup", 7, "a", Lease, Ct);
        await leases.CompleteAsync("backup", 7, "a", _clock.GetUtcNow(), Ct);
        await File.WriteAllTextAsync(leases.StatePath, "{ not json", Ct);

        (await leases.TryClaimAsync("backup", 8, "b", Lease, Ct)).Should().Be(MaintenanceClaim.Won);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private IMaintenanceLeases Open(string kind) => kind == "file"
        ? new FileMaintenanceLeases(Path.Combine(_folder, "maintenance.json"), _clock)
        : new MemoryMaintenanceLeases(_clock);
}

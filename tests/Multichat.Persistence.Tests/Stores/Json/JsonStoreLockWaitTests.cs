using System.Diagnostics;
using FluentAssertions;

namespace Multichat.Persistence.Tests.Stores.Json;

/// <summary>Issue #9 item 3: the wait a caller sees for a session's lock is bounded by JsonLockTimeout from the moment it calls.</summary>
public sealed class JsonStoreLockWaitTests : IDisposable
{
    private readonly JsonTestFolder _folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task AppendMessages_ThreeCallersWhileAnotherProcessHoldsTheLock_EachGivesUpWithinItsOwnTimeout()
    {
        await using (var seed = SessionPersistence.Create(_folder.Options()))
        {
            await seed.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        }

        var options = _folder.Options();
        options.JsonLockTimeout = TimeSpan.FromSeconds(1);
        await using var store = SessionPersistence.Create(options);

        // What another process holds while it works on the session.
        using var held = new FileStream(Path.Combine(_folder.FolderOf("s-1"), ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var calls = Enumerable.Range(1, 3).Select(i => Task.Run(async () =>
        {
            var started = Stopwatch.GetTimestamp();
            var failure = await Record.ExceptionAsync(() => store.AddMessageAsync(
                new ChatMessage { Id = $"m-{i}", SessionId = "s-1", Sender = "a", Content = "x" }, Ct));
            return (Failure: failure, Waited: Stopwatch.GetElapsedTime(started));
        })).ToList();
        var results = await Task.WhenAll(calls);

        results.Should().AllSatisfy(r =>
        {
            r.Failure.Should().BeOfType<StoreUnavailableException>();
            r.Waited.Should().BeLessThan(TimeSpan.FromSeconds(2.5), "each call's wait is bounded from its own start, not queued behind the others");
        });
    }
}

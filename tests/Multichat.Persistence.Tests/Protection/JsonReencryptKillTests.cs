using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;
using Multichat.Persistence.Tests.Stores.Json;

namespace Multichat.Persistence.Tests.Protection;

/// <summary>
/// A TestWorker re-encrypting a Json store is SIGKILLed while it stages a session's replacement
/// (<see cref="ReencryptKillCheck"/>): nothing is lost, the sessions it finished are under the new key, and a second run
/// finishes the job; the staged files of the killed replacement are removed by the next holder of the session's lock.
/// </summary>
public sealed class JsonReencryptKillTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task Reencrypt_WorkerKilledHalfWay_LosesNothingAndASecondRunFinishes(int sessionsDone)
    {
        using var folder = new JsonTestFolder();

        await ReencryptKillCheck.RunAsync(
            layers =>
            {
                var options = folder.Options();
                layers(options);
                return SessionPersistence.Create(options);
            },
            ["Json", folder.Root],
            sessionsDone,
            Ct);

        Directory.EnumerateFiles(Path.Combine(folder.Root, "sessions"), "*.restore", SearchOption.AllDirectories)
            .Should().BeEmpty("the replacement cut short was removed, and every later one committed");
    }
}

using System.Diagnostics;
using System.Reflection;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>Runs a sample the way a newcomer does (its built dll under <c>dotnet</c>), from a folder of the test's own.</summary>
public static class SampleProcess
{
    /// <summary>Runs the sample whose dll path the test assembly records under <paramref name="dllMetadataKey"/>.</summary>
    public static async Task<(int Code, string Output, string Error)> RunAsync(string dllMetadataKey, string workingDirectory, params string[] arguments)
    {
        var dll = typeof(SampleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == dllMetadataKey).Value!;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }
}

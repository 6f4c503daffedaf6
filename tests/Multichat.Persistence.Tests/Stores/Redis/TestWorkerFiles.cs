using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// Puts the TestWorker's build output beside the tests when the build did not (the test project references the worker
/// with ReferenceOutputAssembly=false, which builds it but copies nothing), so <see cref="TestWorkerProcess"/> finds it.
/// </summary>
public static class TestWorkerFiles
{
    private static readonly Lock Gate = new();

    public static void EnsurePresent()
    {
        lock (Gate)
        {
            if (File.Exists(TestWorkerProcess.WorkerDll))
            {
                return;
            }

            // bin/<Configuration>/<TargetFramework>/ of the tests → the same folder of the worker project.
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var framework = testOutput.Name;
            var configuration = testOutput.Parent!.Name;
            var testsFolder = testOutput.Parent!.Parent!.Parent!.Parent!.FullName;
            var workerOutput = Path.Combine(testsFolder, "Multichat.Persistence.TestWorker", "bin", configuration, framework);
            if (!File.Exists(Path.Combine(workerOutput, "Multichat.Persistence.TestWorker.dll")))
            {
                throw new InvalidOperationException($"The TestWorker is not built at {workerOutput}; build tests/Multichat.Persistence.TestWorker first.");
            }

            foreach (var file in Directory.GetFiles(workerOutput))
            {
                var target = Path.Combine(AppContext.BaseDirectory, Path.GetFileName(file));
                if (!File.Exists(target))
                {
                    File.Copy(file, target);
                }
            }
        }
    }
}

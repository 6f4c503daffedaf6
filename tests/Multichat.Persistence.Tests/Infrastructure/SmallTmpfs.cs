using System.Diagnostics;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>
/// A small tmpfs mounted for one test, so a store meets a real full disk (ENOSPC from the kernel, not a simulated
/// exception). Mounting needs root or CAP_SYS_ADMIN; where the machine does not allow it, <see cref="MountOrSkip"/>
/// skips the test (the issue asks for this "where the machine allows mount"), also under CI.
/// </summary>
public sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string path)
    {
        Path = path;
    }

    /// <summary>The mount point: an empty folder on the small file system.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> bytes at a fresh folder, or skips the test.</summary>
    public static SmallTmpfs MountOrSkip(long bytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "multichat-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        var (exit, error) = Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
        if (exit != 0)
        {
            Directory.Delete(path);
            Assert.Skip($"mount -t tmpfs is not allowed here ({error.Trim()}); the full-disk tests need it.");
        }

        return new SmallTmpfs(path);
    }

    /// <summary>
    /// Fills the file system to the last byte with a filler file, so the next write that needs a new block fails with
    /// ENOSPC; <see cref="Free"/> deletes it again.
    /// </summary>
    public void Fill()
    {
        using var filler = new FileStream(FillerPath, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var block = new byte[4096];
        try
        {
            while (true)
            {
                filler.Write(block);
            }
        }
        catch (IOException)
        {
            // ENOSPC: the disk is full, which is the point.
        }

        try
        {
            filler.Dispose();
        }
        catch (IOException)
        {
            // Closing can report the same ENOSPC for the last buffered block; the file stays as full as it got.
        }
    }

    /// <summary>Deletes the filler file, giving the space back.</summary>
    public void Free() => File.Delete(FillerPath);

    public void Dispose()
    {
        var (exit, error) = Run("umount", Path);
        if (exit != 0)
        {
            // A store a test forgot to dispose keeps a file open; unmount lazily so the machine is not left with it.
            (exit, error) = Run("umount", "-l", Path);
        }

        if (exit == 0)
        {
            Directory.Delete(Path, recursive: true);
        }
        else
        {
            throw new InvalidOperationException($"umount {Path} failed: {error}");
        }
    }

    private string FillerPath => System.IO.Path.Combine(Path, "filler.bin");

    private static (int Exit, string Error) Run(string command, params string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }
}

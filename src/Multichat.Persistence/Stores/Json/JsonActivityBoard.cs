using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// <c>activity.bin</c>: a fixed array of 8-byte slots that writers stamp with a random value when they take or give up a
/// session's lock (slot by hash of the session folder; slot 0 when sessions are created or deleted). A process that caches
/// session records for listing reads the whole board (one read) and refreshes only the sessions whose slot changed or
/// is held — so listing stays current across processes without touching 10,000 files, and appends pay nothing for it.
/// </summary>
internal sealed class JsonActivityBoard : IDisposable
{
    public const int Slots = 16 * 1024;

    /// <summary>Set in a slot while a process holds a lock of a session in that slot: its messages may change any moment.</summary>
    public const ulong HeldBit = 1UL << 63;

    /// <summary>
    /// Past the session slots: stamped by creates and imports that do not keep <see cref="JsonSessionCount"/>'s count, so
    /// a create under MaxSessions knows to count the sessions again.
    /// </summary>
    public const int UncountedSlot = Slots;

    private const long Length = (Slots + 1) * sizeof(ulong);

    private readonly SafeFileHandle _file;

    public JsonActivityBoard(string path, FileCreator files)
    {
        _file = OpenOrCreate(path, files);
        if (RandomAccess.GetLength(_file) < Length)
        {
            RandomAccess.SetLength(_file, Length);
        }
    }

    /// <summary>
    /// Preallocated when this call creates it: a sparse board would need a new block for the first stamp of each 4 KB of
    /// slots, so on a full disk even reads (which stamp the session's slot when they take its lock) would fail.
    /// </summary>
    private static SafeFileHandle OpenOrCreate(string path, FileCreator files)
    {
        const FileShare share = FileShare.ReadWrite | FileShare.Delete;
        if (!File.Exists(path))
        {
            try
            {
                return files.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, share, FileOptions.None, Length);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first.
            }
        }

        return File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, share);
    }

    public void Stamp(int slot, bool held)
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        var stamp = (ulong)Random.Shared.NextInt64() & ~HeldBit;
        BinaryPrimitives.WriteUInt64LittleEndian(value, held ? stamp | HeldBit : stamp);
        RandomAccess.Write(_file, value, (long)slot * sizeof(ulong));
    }

    public ulong Read(int slot)
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        return RandomAccess.Read(_file, value, (long)slot * sizeof(ulong)) == sizeof(ulong) ? BinaryPrimitives.ReadUInt64LittleEndian(value) : 0;
    }

    /// <summary>Reads the first <c>slots.Length</c> slots (the session slots, not <see cref="UncountedSlot"/>).</summary>
    public void ReadAll(ulong[] slots)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(slots.AsSpan());
        var offset = 0;
        while (offset < bytes.Length)
        {
            var read = RandomAccess.Read(_file, bytes[offset..], offset);
            if (read == 0)
            {
                bytes[offset..].Clear();
                break;
            }

            offset += read;
        }
    }

    public void Dispose() => _file.Dispose();
}

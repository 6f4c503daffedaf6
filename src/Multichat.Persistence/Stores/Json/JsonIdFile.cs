using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// <c>ids.idx</c>, the idempotency index of one session: which sequences may hold a message id, as an open-addressing
/// table of 8-byte slots (32 bits of the id's hash, the low 32 bits of its sequence) in a memory-mapped file. Mapped
/// shared, so every process sees the same table and a killed process loses nothing it stored in it, and the process
/// holds none of it on its heap: the pages are the OS's file cache. It only proposes candidates: the caller reads the
/// line and compares the real id, so a hash collision costs one read, never a wrong answer. Derived data: the messages
/// file is the truth, and the caller rebuilds or catches up this table from it (see <see cref="JsonSessionState"/>).
/// Every member is used only by the holder of the session's lock.
/// </summary>
internal sealed unsafe class JsonIdFile : IDisposable
{
    public const int HeaderSize = 128;
    public const long MinCapacity = 256;
    public const int FormatVersion = 1;

    /// <summary>"#MCHIDX1" in file order.</summary>
    public const ulong Magic = 0x3158444948434D23;

    // Header fields, little-endian at these offsets (tests rewrite some of them to simulate crashes).
    public const int MagicAt = 0;
    public const int VersionAt = 8;
    public const int FlagsAt = 12;
    public const int CapacityAt = 16;
    public const int CountAt = 24;
    public const int IncarnationAt = 32;
    public const int IndexedThroughAt = 40;
    public const int SyncedThroughAt = 48;
    public const int BootTimeAt = 56;
    public const int BootIdAt = 64;
    public const int HighestAt = 72;
    public const int ChecksumAt = 80;

    /// <summary>Set in a file another one replaced (grown or rebuilt): a process still mapping it must open the path again.</summary>
    private const int SupersededFlag = 1;

    private const long MaxCapacity = 1L << 31;

    private readonly string _path;
    private readonly FaultInjection? _faults;
    private readonly FileCreator _files;
    private MemoryMappedViewAccessor? _view;
    private byte* _base;
    private ulong* _slots;
    private long _capacity;

    private JsonIdFile(string path, MemoryMappedViewAccessor view, byte* @base, long capacity, FaultInjection? faults, FileCreator? files)
    {
        _path = path;
        _faults = faults;
        _files = files ?? FileCreator.OwnerOnly;
        Attach(view, @base, capacity);
    }

    public long Capacity => _capacity;

    /// <summary>False once disposed, or after a failed replacement closed it: the caller must open the path again.</summary>
    public bool IsOpen => _view is not null;

    public long Count
    {
        get => Field(CountAt);
        private set => Field(CountAt) = value;
    }

    /// <summary>A hash of the messages file's incarnation this table indexes (see <see cref="HashIncarnation"/>).</summary>
    public ulong Incarnation => (ulong)Field(IncarnationAt);

    /// <summary>Byte offset in the messages file up to which every committed line has its slot here (a line boundary).</summary>
    public long IndexedThrough
    {
        get => Field(IndexedThroughAt);
        set => Field(IndexedThroughAt) = value;
    }

    /// <summary>
    /// What <see cref="IndexedThrough"/> was at the last <see cref="Checkpoint"/>: the slots of the lines before it were
    /// on the disk before this value was written, so it holds across a power loss, whatever order the kernel wrote pages in.
    /// </summary>
    public long SyncedThrough
    {
        get => Field(SyncedThroughAt);
        private set => Field(SyncedThroughAt) = value;
    }

    /// <summary>
    /// The highest sequence ever recorded here. It survives the loss or damage of the messages file (and is carried into a
    /// rebuilt table), so a sequence once issued is never issued again (DESIGN §4.1).
    /// </summary>
    public long Highest
    {
        get => Field(HighestAt);
        private set => Field(HighestAt) = value;
    }

    /// <summary>The sum of <see cref="Mix"/> over the occupied slots, kept with every insert: a damaged slot fails it at open.</summary>
    private ulong Checksum
    {
        get => (ulong)Field(ChecksumAt);
        set => Field(ChecksumAt) = (long)value;
    }

    public bool Superseded => (BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(_base + FlagsAt, 4)) & SupersededFlag) != 0;

    public static ulong HashIncarnation(string incarnation) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(incarnation)) | 1;

    /// <summary>Maps the file at <paramref name="path"/> when its header is well-formed; null when it is missing or not a table.</summary>
    /// <summary>The <see cref="Highest"/> of the table at <paramref name="path"/>, by one small read (0 when missing or not a table).</summary>
    public static long PeekHighest(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> header = stackalloc byte[HeaderSize];
            var highest = RandomAccess.Read(handle, header, 0) == HeaderSize && BinaryPrimitives.ReadUInt64LittleEndian(header) == Magic
                ? BinaryPrimitives.ReadInt64LittleEndian(header[HighestAt..])
                : 0;
            return highest is >= 0 and <= JsonMessageLine.MaxSequence ? highest : 0;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }
    }

    public static JsonIdFile? TryOpen(string path, FaultInjection? faults = null, FileCreator? files = null)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        using (handle)
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            var length = RandomAccess.GetLength(handle);
            if (length < HeaderSize || RandomAccess.Read(handle, header, 0) < HeaderSize)
            {
                return null;
            }

            var capacity = BinaryPrimitives.ReadInt64LittleEndian(header[CapacityAt..]);
            var count = BinaryPrimitives.ReadInt64LittleEndian(header[CountAt..]);
            var highest = BinaryPrimitives.ReadInt64LittleEndian(header[HighestAt..]);
            if (BinaryPrimitives.ReadUInt64LittleEndian(header) != Magic
                || BinaryPrimitives.ReadInt32LittleEndian(header[VersionAt..]) != FormatVersion
                || capacity < MinCapacity || capacity > MaxCapacity || (capacity & (capacity - 1)) != 0
                || length != HeaderSize + (capacity * sizeof(ulong))
                || count < 0 || count > capacity
                || highest < 0 || highest > JsonMessageLine.MaxSequence)
            {
                return null;
            }

            var view = Map(handle, out var @base);
            return new JsonIdFile(path, view, @base, capacity, faults, files);
        }
    }

    /// <summary>
    /// Puts an empty table for <paramref name="incarnation"/> at <paramref name="path"/>, sized for about
    /// <paramref name="expected"/> ids: built aside, then renamed over whatever is there. <paramref name="replacing"/>, the
    /// caller's mapping of the old file if any, is marked superseded and closed.
    /// </summary>
    public static JsonIdFile Create(
        string path, ulong incarnation, long expected, JsonIdFile? replacing, long highest = 0, FaultInjection? faults = null, FileCreator? files = null)
    {
        var capacity = MinCapacity;
        while (capacity < MaxCapacity && capacity * 3 < expected * 4)
        {
            capacity *= 2;
        }

        faults?.Reach(JsonFaultPoints.IdsBeforeCreate);
        files ??= FileCreator.OwnerOnly;
        var view = MapNew(files, path + ".tmp", capacity, out var @base);
        var file = new JsonIdFile(path, view, @base, capacity, faults, files);
        try
        {
            faults?.Reach(JsonFaultPoints.IdsAfterCreate);
            file.Field(IncarnationAt) = (long)incarnation;
            file.Highest = highest;
            file.Install(replacing);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Grows the table now if <paramref name="additional"/> more ids would pass the 75 % load: called before the lines are
    /// written, so a failure to grow (a full disk) fails the append before anything is stored.
    /// </summary>
    public void EnsureRoom(int additional)
    {
        while ((Count + additional) * 4 > _capacity * 3 && _capacity < MaxCapacity)
        {
            Grow();
        }
    }

    /// <summary>Adds an id's slot; a slot already present (a line indexed again after a crash) is left as it is.</summary>
    public void Add(ulong hash, long sequence)
    {
        EnsureRoom(1);
        var packed = Pack(hash, sequence);
        var added = Insert(_slots, _capacity - 1, packed);
        if (added is null)
        {
            // No empty slot although the count says there is room: the file was damaged outside the store. The grown
            // copy has room for every slot there is.
            Grow();
            added = Insert(_slots, _capacity - 1, packed);
        }

        if (added == true)
        {
            Count++;
            Checksum += Mix(packed);
        }

        if (sequence > Highest)
        {
            Highest = sequence;
        }
    }

    /// <summary>
    /// Whether the slots add up to the stored checksum: one pass over the table, done when a process maps the file. A slot
    /// zeroed or changed by hand (or a writer killed between a slot and its checksum) fails it, and the caller rebuilds the
    /// table from the messages file, so a damaged slot never makes a retry look new.
    /// </summary>
    public bool ChecksumHolds() => Sum(_slots, _capacity) == Checksum;

    /// <summary>
    /// The sequences stored under <paramref name="hash"/>'s fragment, in no particular order; each full sequence is rebuilt
    /// from its low 32 bits as the highest one not above <paramref name="lastSequence"/>, and, when the file's sequences
    /// span 2^32 or more, also as the lowest one not below <paramref name="firstSequence"/>.
    /// </summary>
    /// <remarks>
    /// The span passes 2^32 only when sequences jumped (an import with a huge gap, or an issued sequence raised by a
    /// damaged file); the messages before the jump then lie just above the first sequence, not just below the last, and
    /// without the second guess a retry of one of them would be stored again. The caller reads each candidate's line, so a
    /// wrong guess costs one read and never a wrong answer.
    /// </remarks>
    public void Candidates(ulong hash, long firstSequence, long lastSequence, List<long> into)
    {
        into.Clear();
        var fragment = Fragment(hash);
        var mask = _capacity - 1;

        // Bounded, so even a damaged table that has no empty slot cannot loop forever.
        for (long i = fragment & mask, probes = 0; probes < _capacity; i = (i + 1) & mask, probes++)
        {
            var slot = _slots[i];
            if (slot == 0)
            {
                return;
            }

            if ((uint)(slot >> 32) == fragment)
            {
                var low = (uint)slot;
                var below = lastSequence - (uint)((uint)lastSequence - low);
                into.Add(below);
                if (lastSequence - firstSequence >= 1L << 32 && firstSequence + (uint)(low - (uint)firstSequence) is var above && above != below)
                {
                    into.Add(above);
                }
            }
        }
    }

    /// <summary>
    /// Flushes the table to the disk (msync), then records <see cref="SyncedThrough"/>. The caller has made the messages
    /// file durable up to <see cref="IndexedThrough"/> first, so after a power loss the file is at least that long.
    /// </summary>
    public void Checkpoint()
    {
        var through = IndexedThrough;
        if (SyncedThrough == through)
        {
            return;
        }

        _view!.Flush();
        _faults?.Reach(JsonFaultPoints.CheckpointAfterFlushTable);
        SyncedThrough = through;
    }

    /// <summary>
    /// Called when a process maps the file. While the machine has not rebooted since the file's boot stamp, the table is
    /// exactly as the last writer left it: every write to a shared mapping lives in the page cache until then, even if the
    /// writer was killed. After a reboot only what a checkpoint flushed is certain: <see cref="IndexedThrough"/> goes back
    /// to <see cref="SyncedThrough"/>, the caller indexes the lines after it again, and the slots that did reach the disk
    /// after the checkpoint are harmless (an id proposed for a line that says otherwise is rejected by the caller's check).
    /// </summary>
    public void DropUnsyncedIfRebooted()
    {
        if (JsonBoot.IsCurrent(Field(BootTimeAt), (ulong)Field(BootIdAt)))
        {
            return;
        }

        IndexedThrough = SyncedThrough;
        long count = 0;
        for (long i = 0; i < _capacity; i++)
        {
            count += _slots[i] != 0 ? 1 : 0;
        }

        // The stored count may have missed the writes that reached the disk; the load limit needs the real one.
        Count = count;
        Checksum = Sum(_slots, _capacity);
        StampBoot();
    }

    /// <summary>Clears the mark of a file whose replacement never got its place (the writer died before the rename): it is whole.</summary>
    public void Reinstate() => SetFlags(0);

    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _view = null;
            _base = null;
            _slots = null;
        }
    }

    private static uint Fragment(ulong hash)
    {
        var fragment = (uint)(hash >> 32);
        return fragment == 0 ? 1 : fragment; // 0 marks an empty slot
    }

    private static ulong Mix(ulong slot)
    {
        // SplitMix64's finalizer: a changed bit anywhere in a slot changes the sum unpredictably.
        slot = (slot ^ (slot >> 30)) * 0xBF58476D1CE4E5B9;
        slot = (slot ^ (slot >> 27)) * 0x94D049BB133111EB;
        return slot ^ (slot >> 31);
    }

    private static ulong Sum(ulong* slots, long capacity)
    {
        ulong sum = 0;
        for (long i = 0; i < capacity; i++)
        {
            sum += slots[i] != 0 ? Mix(slots[i]) : 0;
        }

        return sum;
    }

    private static ulong Pack(ulong hash, long sequence) => ((ulong)Fragment(hash) << 32) | (uint)sequence;

    /// <summary>True when added, false when the slot was already there, null when the table has no empty slot.</summary>
    private static bool? Insert(ulong* slots, long mask, ulong packed)
    {
        // The position comes from the stored fragment (hash bits already well mixed), so growing needs no original hash.
        for (ulong i = (packed >> 32) & (ulong)mask, probes = 0; probes <= (ulong)mask; i = (i + 1) & (ulong)mask, probes++)
        {
            var slot = slots[i];
            if (slot == packed)
            {
                return false;
            }

            if (slot == 0)
            {
                slots[i] = packed;
                return true;
            }
        }

        return null;
    }

    private static MemoryMappedViewAccessor MapNew(FileCreator files, string path, long capacity, out byte* @base)
    {
        var length = HeaderSize + (capacity * sizeof(ulong));

        // Preallocated, so the disk space exists before any page is written through the mapping: a full disk then fails
        // here with an IOException, instead of killing the process with SIGBUS on a later write.
        using var handle = files.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.None, length);
        RandomAccess.SetLength(handle, length);
        var view = Map(handle, out @base);
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(@base, 8), Magic);
        BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(@base + VersionAt, 4), FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(@base + CapacityAt, 8), capacity);
        return view;
    }

    private static MemoryMappedViewAccessor Map(SafeFileHandle handle, out byte* @base)
    {
        // The view outlives the mapping object and the file handle: the process keeps no descriptor per session.
        using var map = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        @base = pointer + view.PointerOffset;
        return view;
    }

    private ref long Field(int offset) => ref Unsafe.AsRef<long>(_base + offset);

    private void SetFlags(int flags) => BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(_base + FlagsAt, 4), flags);

    private void StampBoot()
    {
        Field(BootTimeAt) = JsonBoot.Time;
        Field(BootIdAt) = (long)JsonBoot.Id;
    }

    private void Attach(MemoryMappedViewAccessor view, byte* @base, long capacity)
    {
        _view = view;
        _base = @base;
        _slots = (ulong*)(@base + HeaderSize);
        _capacity = capacity;
    }

    /// <summary>Doubles the table: a copy built in <c>ids.idx.tmp</c> replaces the file, as in <see cref="Create"/>.</summary>
    private void Grow()
    {
        var capacity = _capacity * 2;
        _faults?.Reach(JsonFaultPoints.IdsBeforeCreate);
        var view = MapNew(_files, _path + ".tmp", capacity, out var @base);
        var slots = (ulong*)(@base + HeaderSize);
        long count = 0;
        for (long i = 0; i < _capacity; i++)
        {
            if (_slots[i] != 0 && Insert(slots, capacity - 1, _slots[i]) == true)
            {
                count++;
            }
        }

        var grown = new JsonIdFile(_path, view, @base, capacity, _faults, _files);
        try
        {
            _faults?.Reach(JsonFaultPoints.IdsAfterCreate);
            grown.Count = count;
            grown.Field(IncarnationAt) = Field(IncarnationAt);
            grown.IndexedThrough = IndexedThrough;
            grown.Highest = Highest;
            grown.Checksum = Sum(slots, capacity);

            // The copy is not flushed, so nothing of it is certain after a power loss until the next checkpoint:
            // SyncedThrough stays 0 in the new file.
            grown.Install(this);
        }
        catch
        {
            grown.Dispose();
            throw;
        }

        // This object takes over the new mapping, so its holder keeps using it.
        Attach(grown._view!, grown._base, capacity);
        grown._view = null;
    }

    /// <summary>Stamps this new table (still at <c>{path}.tmp</c>) and renames it over the path, superseding <paramref name="replacing"/>.</summary>
    private void Install(JsonIdFile? replacing)
    {
        StampBoot();
        if (replacing is not null)
        {
            // Before the rename: if we die between the two, the next lock holder finds the marked file still in place and
            // reinstates it; after it, every process still mapping the old file sees the mark at its next lock.
            replacing.SetFlags(SupersededFlag);

            // Closed before the rename too: Windows cannot replace a file that this process still maps.
            replacing.Dispose();
        }

        _faults?.Reach(JsonFaultPoints.IdsBeforeRename);
        File.Move(_path + ".tmp", _path, overwrite: true);
        _faults?.Reach(JsonFaultPoints.IdsAfterRename);
    }
}

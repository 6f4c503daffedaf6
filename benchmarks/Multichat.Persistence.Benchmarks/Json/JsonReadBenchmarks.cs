using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Benchmarks.Json;

/// <summary>
/// The latest 50 messages of a session of <see cref="History"/> messages, against the raw baseline: reading the file's
/// last 16 KiB and finding its last 50 line breaks, without parsing.
/// </summary>
[MemoryDiagnoser]
public class JsonReadBenchmarks
{
    private static readonly MessageQuery Latest50 = new() { Limit = 50, Order = MessageOrder.NewestFirst };

    private readonly byte[] _block = new byte[16 * 1024];
    private string _root = "";
    private JsonStore _store = null!;
    private SafeFileHandle _file = null!;

    [Params(1_000, 1_000_000)]
    public int History { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _root = JsonBenchmarkStore.NewRoot();
        _store = JsonBenchmarkStore.Open(_root, Durability.Normal);
        await JsonBenchmarkStore.FillAsync(_store, "s", History);
        await _store.DisposeAsync();

        // A reader that never wrote: no idempotency index is loaded, as in a process that only serves reads.
        _store = JsonBenchmarkStore.Open(_root, Durability.Normal);
        _file = File.OpenHandle(Path.Combine(_root, "sessions", JsonSessionKey.For("s"), "messages.jsonl"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _file.Dispose();
        await _store.DisposeAsync();
        JsonBenchmarkStore.Delete(_root);
    }

    [Benchmark(Baseline = true)]
    public int RawTail()
    {
        var length = RandomAccess.GetLength(_file);
        var start = Math.Max(0, length - _block.Length);
        var read = RandomAccess.Read(_file, _block, start);
        var lines = 0;
        for (var i = read - 1; i >= 0 && lines <= 50; i--)
        {
            if (_block[i] == (byte)'\n')
            {
                lines++;
            }
        }

        return lines;
    }

    [Benchmark]
    public Task<MessagePage> StoreLatest50() => _store.GetMessagesAsync("s", Latest50);
}

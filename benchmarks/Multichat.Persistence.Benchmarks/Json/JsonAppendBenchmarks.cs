using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Benchmarks.Json;

/// <summary>
/// One message appended to a session that already holds <see cref="History"/> messages, against the raw baseline: the
/// same JSON line bytes written to a file in the same folder with the same flush policy, and nothing else.
/// </summary>
[MemoryDiagnoser]
public class JsonAppendBenchmarks
{
    private string _root = "";
    private JsonStore _store = null!;
    private SafeFileHandle _raw = null!;
    private byte[] _line = [];
    private long _rawOffset;
    private long _next;

    [Params(Durability.Normal, Durability.Full)]
    public Durability Durability { get; set; }

    [Params(1_000, 1_000_000)]
    public int History { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _root = JsonBenchmarkStore.NewRoot();
        _store = JsonBenchmarkStore.Open(_root, Durability);
        await JsonBenchmarkStore.FillAsync(_store, "s", History);
        JsonBenchmarkStore.ReportMemory($"after {History} messages");

        // The line the store writes for such a message, byte for byte.
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, JsonMessageLine.WriterOptions);
        var now = DateTimeOffset.UtcNow;
        JsonMessageLine.Write(writer, buffer, JsonBenchmarkStore.Message("s", "b-1000000") with { Sequence = History + 1, Timestamp = now }, now, more: false);
        _line = buffer.WrittenSpan.ToArray();
        _raw = File.OpenHandle(Path.Combine(_root, "raw.jsonl"), FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        JsonBenchmarkStore.ReportMemory($"after the appends at {History}");
        _raw.Dispose();
        await _store.DisposeAsync();
        JsonBenchmarkStore.Delete(_root);
    }

    [Benchmark(Baseline = true)]
    public void RawAppend()
    {
        RandomAccess.Write(_raw, _line, _rawOffset);
        _rawOffset += _line.Length;
        if (Durability == Durability.Full)
        {
            RandomAccess.FlushToDisk(_raw);
        }
    }

    [Benchmark]
    public Task<IReadOnlyList<ChatMessage>> StoreAppend() =>
        _store.AppendMessagesAsync("s", [JsonBenchmarkStore.Message("s", $"b-{_next++}")], 0);
}

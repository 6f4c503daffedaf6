using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Benchmarks.Json;

/// <summary>
/// One message appended to a session that already holds <see cref="History"/> messages, against two raw baselines in a
/// file of the same folder with the same flush policy: <see cref="RawWrite"/> writes the line's bytes serialized once
/// beforehand; <see cref="RawSerializeAndWrite"/> (the ratio's baseline) serializes the same message to the same bytes
/// with the same writer and writes them, so the ratio shows what the store itself adds (lock, idempotency, bookkeeping).
/// </summary>
[MemoryDiagnoser]
public class JsonAppendBenchmarks
{
    private const int WorkBeforeReport = 1_000_000;

    private string _root = "";
    private JsonStore _store = null!;
    private SafeFileHandle _raw = null!;
    private readonly ArrayBufferWriter<byte> _rawBuffer = new();
    private Utf8JsonWriter _rawWriter = null!;
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

        // The same work in every case before the memory report (a warm-up session of the remaining messages, filled and
        // deleted), so the figures differ by the history kept, not by how much code ran: JIT tiers, GC budgets and
        // native arenas alone move RssAnon by ~8 MiB between a process that appended 1,000 messages and one that appended 1,000,000.
        if (History < WorkBeforeReport)
        {
            await JsonBenchmarkStore.FillAsync(_store, "warm-up", WorkBeforeReport - History);
            await _store.DeleteSessionAsync("warm-up");
        }

        await JsonBenchmarkStore.FillAsync(_store, "s", History);
        JsonBenchmarkStore.ReportMemory($"after {History} messages", _root);

        // The line the store writes for such a message, byte for byte.
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, JsonMessageLine.WriterOptions);
        var now = DateTimeOffset.UtcNow;
        JsonMessageLine.Write(writer, buffer, JsonBenchmarkStore.Message("s", "b-1000000") with { Sequence = History + 1, Timestamp = now }, now, more: false);
        _line = buffer.WrittenSpan.ToArray();
        _rawWriter = new Utf8JsonWriter(_rawBuffer, JsonMessageLine.WriterOptions);
        _raw = File.OpenHandle(Path.Combine(_root, "raw.jsonl"), FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        JsonBenchmarkStore.ReportMemory($"after the appends at {History}", _root);
        _raw.Dispose();
        await _rawWriter.DisposeAsync();
        await _store.DisposeAsync();
        JsonBenchmarkStore.Delete(_root);
    }

    [Benchmark]
    public void RawWrite()
    {
        RandomAccess.Write(_raw, _line, _rawOffset);
        _rawOffset += _line.Length;
        if (Durability == Durability.Full)
        {
            RandomAccess.FlushToDisk(_raw);
        }
    }

    [Benchmark(Baseline = true)]
    public void RawSerializeAndWrite()
    {
        var now = DateTimeOffset.UtcNow;
        var message = JsonBenchmarkStore.Message("s", $"r-{_next++}") with { Sequence = _next, Timestamp = now };
        _rawBuffer.ResetWrittenCount();
        JsonMessageLine.Write(_rawWriter, _rawBuffer, message, now, more: false);
        RandomAccess.Write(_raw, _rawBuffer.WrittenSpan, _rawOffset);
        _rawOffset += _rawBuffer.WrittenCount;
        if (Durability == Durability.Full)
        {
            RandomAccess.FlushToDisk(_raw);
        }
    }

    [Benchmark]
    public Task<IReadOnlyList<ChatMessage>> StoreAppend() =>
        _store.AppendMessagesAsync("s", [JsonBenchmarkStore.Message("s", $"b-{_next++}")], MessageLimit.None);
}

using System.Text;
using Multichat.Persistence.Stores.Json;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// A Json store written once (the template) and a working copy of it that each iteration resets to the template's
/// bytes before damaging one file: copying only the files an iteration can change keeps 10,000 iterations fast.
/// The target session holds messages of very different lengths (some longer than the readers' 4 KiB and 16 KiB
/// blocks, the file longer than the sequence search's 16 KiB scan), batches (lines marked "more"), metadata,
/// recipients, non-ASCII text and escapes; a second session stands by and must stay whole whatever happens.
/// </summary>
internal sealed class JsonFuzzStore : IDisposable
{
    public const string Target = "s-fuzz";
    public const string Bystander = "s-other";
    public const int BystanderMessages = 3;

    private readonly string _base;
    private readonly Dictionary<string, byte[]> _template = new(StringComparer.Ordinal);

    private JsonFuzzStore(string @base)
    {
        _base = @base;
        Parent = Path.Combine(@base, "work");
        Root = Path.Combine(Parent, "store");
    }

    /// <summary>Holds only <see cref="Root"/>: anything else appearing here was written outside the store.</summary>
    public string Parent { get; }

    public string Root { get; }

    public string TargetFolder => Path.Combine(Root, "sessions", JsonSessionKey.For(Target));

    /// <summary>The target's messages as the template stored them, in sequence order.</summary>
    public IReadOnlyList<ChatMessage> Messages { get; private set; } = [];

    /// <summary>The target's messages.jsonl lines (with their '\n'), one per message, and whether each is marked "more".</summary>
    public IReadOnlyList<(byte[] Line, bool More)> Lines { get; private set; } = [];

    /// <summary>The bystander's messages, in sequence order.</summary>
    public IReadOnlyList<ChatMessage> BystanderStored { get; private set; } = [];

    /// <summary>Valid lines to splice into a messages file: the target's own and the bystander's.</summary>
    public IReadOnlyList<byte[]> SpliceLines { get; private set; } = [];

    public long LastSequence => Messages[^1].Sequence;

    /// <summary>
    /// A memory-backed folder (/dev/shm) where there is one, else the temp folder: every iteration's dispose flushes the
    /// messages file to the disk (the id file's checkpoint), which on a real disk costs more than the rest of the
    /// iteration; the readers under test read the same bytes either way.
    /// </summary>
    private static string FastTemp => OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    public SessionPersistenceOptions Options() =>
        new() { StorageType = StorageType.Json, StoragePath = Root, Durability = Durability.Normal };

    public static async Task<JsonFuzzStore> CreateAsync(CancellationToken cancellationToken)
    {
        var store = new JsonFuzzStore(Path.Combine(FastTemp, "multichat-fuzz", "j" + Guid.NewGuid().ToString("N")[..12]));
        await store.SeedAsync(cancellationToken);
        return store;
    }

    /// <summary>The template's bytes of a file of the target session (session.json, messages.jsonl, ids.idx) or the root (format.json).</summary>
    public byte[] TemplateOf(string file) => _template[file];

    public string PathOf(string file) => file == "format.json" ? Path.Combine(Root, file) : Path.Combine(TargetFolder, file);

    /// <summary>
    /// Puts the working copy back to the template: the files an iteration can write (the target's record, messages and
    /// id file, format.json) get their bytes again, and whatever it added beside them (a .damaged file, temp files) goes.
    /// </summary>
    public void Reset()
    {
        foreach (var folder in new[] { Root, TargetFolder })
        {
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                var name = Path.GetFileName(file);
                if (!_template.ContainsKey(name) && name is not (".lock" or "activity.bin" or "sessions.count"))
                {
                    File.Delete(file);
                }
            }
        }

        foreach (var (file, bytes) in _template)
        {
            File.WriteAllBytes(PathOf(file), bytes);
        }
    }

    /// <summary>Every file and folder under <see cref="Parent"/> outside the target session's folder, for the "nothing written outside" check.</summary>
    public string[] Outside()
    {
        var names = new List<string>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(Parent))
        {
            names.Add(Path.GetFileName(entry));
        }

        foreach (var folder in Directory.EnumerateDirectories(Path.Combine(Root, "sessions")))
        {
            names.Add("sessions/" + Path.GetFileName(folder));
        }

        foreach (var entry in Directory.EnumerateDirectories(Root))
        {
            names.Add("root/" + Path.GetFileName(entry));
        }

        names.Sort(StringComparer.Ordinal);
        return [.. names];
    }

    public void Dispose()
    {
        if (Directory.Exists(_base))
        {
            Directory.Delete(_base, recursive: true);
        }
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        var random = new Random(20_261_201);
        await using (var store = SessionPersistence.Create(Options()))
        {
            await store.CreateSessionAsync(Target, ["agent-1", "agent-2"], "fuzz target", new Dictionary<string, string> { ["k"] = "v" }, cancellationToken);
            await store.CreateSessionAsync(Bystander, ["agent-1"], cancellationToken: cancellationToken);
            var next = 1;
            while (next <= 96)
            {
                var size = random.Next(3) == 0 ? random.Next(2, 6) : 1;
                var batch = Enumerable.Range(next, Math.Min(size, 97 - next)).Select(i => Message(Target, i, random)).ToArray();
                await store.AddMessagesAsync(Target, batch, cancellationToken);
                next += batch.Length;
            }

            // The last line is a single message: a damaged last line is then never mistaken for an unfinished batch.
            for (var i = 1; i <= BystanderMessages; i++)
            {
                await store.AddMessageAsync(new ChatMessage { Id = $"o-{i}", SessionId = Bystander, Sender = "agent-1", Content = $"bystander {i}" }, cancellationToken);
            }

            Messages = [.. (await store.GetMessagesAsync(Target, new MessageQuery { Limit = 1000 }, cancellationToken)).Messages];
            BystanderStored = [.. (await store.GetMessagesAsync(Bystander, new MessageQuery { Limit = 1000 }, cancellationToken)).Messages];
        }

        foreach (var file in new[] { "session.json", "messages.jsonl", "ids.idx", "format.json" })
        {
            _template[file] = File.ReadAllBytes(PathOf(file));
        }

        var messages = _template["messages.jsonl"];
        var lines = ByteMutations.LineSpans(messages).Select(s => messages.AsSpan(s.Start, s.Length).ToArray()).ToList();
        if (lines.Count != Messages.Count || lines.Any(l => l[^1] != '\n'))
        {
            throw new InvalidOperationException($"The template's messages file has {lines.Count} lines for {Messages.Count} messages.");
        }

        Lines = [.. lines.Select(l => (l, l.AsSpan().IndexOf("\"more\":true"u8) >= 0))];
        var bystander = File.ReadAllBytes(Path.Combine(Root, "sessions", JsonSessionKey.For(Bystander), "messages.jsonl"));
        SpliceLines = [.. lines, .. ByteMutations.LineSpans(bystander).Select(s => bystander.AsSpan(s.Start, s.Length).ToArray())];
    }

    private static ChatMessage Message(string sessionId, int i, Random random)
    {
        const string Alphabet = "abcdefghij klmnop QRSTUV 0123456789 éüß 日本語 😀 \"quoted\" back\\slash \t tab \n newline \u0001 {}[]:,";
        // A few lines past the scanners' 4 KiB probe block and most short, so the file (~40 KB) is past the sequence
        // search's 16 KiB scan yet cheap to rewrite and read twice per iteration.
        var length = i % 32 == 7 ? random.Next(3_000, 4_000) : i % 10 == 3 ? random.Next(500, 1_000) : random.Next(5, 120);
        var content = new StringBuilder(length);
        while (content.Length < length)
        {
            // Whole text elements only, so no surrogate pair is split.
            var at = random.Next(Alphabet.Length);
            content.Append(char.IsSurrogate(Alphabet[at]) ? "😀" : Alphabet[at].ToString());
        }

        return new ChatMessage
        {
            Id = $"m-{i}",
            SessionId = sessionId,
            Sender = i % 2 == 0 ? "agent-1" : "agent-2",
            Recipient = i % 4 == 0 ? "agent-1" : null,
            Content = content.ToString(),
            Metadata = i % 3 == 0 ? new Dictionary<string, string> { ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture), ["x"] = "ü" } : EmptyMetadata.Instance,
        };
    }
}

using System.Text.Json;

namespace Multichat.Persistence.Stores.Json;

/// <summary>
/// A session's <c>reads.json</c> as this instance knows it: the participants' marked read cursors, read once per lease
/// (only a lock holder writes the file, so what was read stays true while the lock is held) and replaced atomically on
/// each mark that moves a cursor. Used only under the session's lock, like the rest of its state.
/// </summary>
internal sealed class JsonReadCursors(string folder)
{
    private Dictionary<string, long>? _cursors;

    public string Path { get; } = System.IO.Path.Combine(folder, "reads.json");

    /// <summary>The cursors of the session life <paramref name="document"/> describes (a copy the caller may keep).</summary>
    public Dictionary<string, long> Read(JsonStoreContext context, JsonSessionDocument document, long lastSequence) =>
        new(Load(context, document, lastSequence), StringComparer.Ordinal);

    /// <summary>
    /// Moves <paramref name="participant"/>'s cursor up to <paramref name="sequence"/> when that is higher, writing the
    /// file only then. The caller holds the lock and checked that the sequence was assigned.
    /// </summary>
    /// <returns>The participant's cursor after the call.</returns>
    public long Mark(JsonStoreContext context, JsonSessionDocument document, long lastSequence, string participant, long sequence)
    {
        var cursors = Load(context, document, lastSequence);
        var current = cursors.GetValueOrDefault(participant);
        if (sequence <= current)
        {
            return current;
        }

        var next = new Dictionary<string, long>(cursors, StringComparer.Ordinal) { [participant] = sequence };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new JsonReadsDocument { Epoch = document.Epoch, Cursors = next }, JsonStoreContext.Json.JsonReadsDocument);
        context.WriteReads(Path, bytes);

        // Kept only once the file holds it: a failed write leaves the cache as the file is.
        _cursors = next;
        return sequence;
    }

    /// <summary>
    /// Writes <paramref name="cursors"/> to <paramref name="path"/> tagged with <paramref name="epoch"/>: a guarded
    /// replacement stages the session's cursors for the life it commits, so they go on with it.
    /// </summary>
    public static void WriteFor(JsonStoreContext context, string path, long epoch, Dictionary<string, long> cursors) =>
        context.WriteReads(path, JsonSerializer.SerializeToUtf8Bytes(new JsonReadsDocument { Epoch = epoch, Cursors = cursors }, JsonStoreContext.Json.JsonReadsDocument));

    /// <summary>Deletes the file (the session's life ended); a new life starts without cursors.</summary>
    public void Delete()
    {
        _cursors = null;
        File.Delete(Path);
        File.Delete(Path + ".tmp");
    }

    /// <summary>Gives up what was read; the next use reads the file again (another process may have written it).</summary>
    public void Forget() => _cursors = null;

    private Dictionary<string, long> Load(JsonStoreContext context, JsonSessionDocument document, long lastSequence)
    {
        if (_cursors is not null)
        {
            return _cursors;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return _cursors = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        JsonReadsDocument? reads;
        string? problem;
        try
        {
            reads = JsonSerializer.Deserialize(bytes, JsonStoreContext.Json.JsonReadsDocument);
            problem = reads is null ? "it holds no cursors" : reads.Problem(lastSequence);
        }
        catch (JsonException ex)
        {
            reads = null;
            // Not ex.Message: its JSON path names the participant, and the log never holds ids.
            problem = $"it is not valid JSON of the expected shape (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine})";
        }

        if (problem is not null)
        {
            // Cursors are a convenience beside the messages, not data: a damaged file must not take the session down.
            // Set aside for inspection; the participants start from no mark (their own messages still count as read),
            // and the next mark writes a good file.
            context.ReportDamagedReads(problem);
            File.Move(Path, Path + ".damaged", overwrite: true);
            return _cursors = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        // A file of an earlier life (a delete or replacement cut short before it removed it) holds nothing of this one.
        return _cursors = reads!.Epoch == document.Epoch ? reads.Cursors : new Dictionary<string, long>(StringComparer.Ordinal);
    }
}

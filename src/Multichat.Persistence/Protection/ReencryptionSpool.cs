using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Protection;

/// <summary>
/// One session's resealed messages on their way from the store back into it: JSON Lines in a temporary file, written
/// once and then read once in batches, so a re-encryption holds one page of a history in memory however long it is. The
/// file holds values as they are stored (sealed), never plain text, is readable by its owner only on Unix, and is
/// deleted when the spool is disposed (or by the OS when the process dies: delete-on-close).
/// </summary>
internal sealed class ReencryptionSpool : IAsyncDisposable
{
    private readonly FileStream _file;

    private ReencryptionSpool(FileStream file)
    {
        _file = file;
    }

    /// <summary>How many messages were written.</summary>
    public long Count { get; private set; }

    public static ReencryptionSpool Create()
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 64 * 1024,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var path = Path.Combine(Path.GetTempPath(), $"multichat-reencrypt-{Guid.NewGuid():N}.jsonl");
        return new ReencryptionSpool(new FileStream(path, options));
    }

    public async Task WriteAsync(ChatMessage message, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, PersistenceJsonContext.Default.ChatMessage);
        await _file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        _file.WriteByte((byte)'\n');
        Count++;
    }

    /// <summary>The messages written, from the first, in batches of up to <paramref name="batchSize"/>; each batch is
    /// handed to <paramref name="taken"/> as it goes to the store (for progress).</summary>
    public async IAsyncEnumerable<IReadOnlyList<ChatMessage>> ReadAsync(
        int batchSize, Action<int> taken, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _file.Position = 0;

        // The spool owns the file (delete-on-close): the reader must not close it.
        using var reader = new StreamReader(_file, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true), false, 64 * 1024, leaveOpen: true);
        var batch = new List<ChatMessage>(batchSize);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            batch.Add(JsonSerializer.Deserialize(line, PersistenceJsonContext.Default.ChatMessage)
                ?? throw new InvalidDataException("The re-encryption spool holds an empty line."));
            if (batch.Count == batchSize)
            {
                taken(batch.Count);
                yield return batch.ToArray();
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            taken(batch.Count);
            yield return batch.ToArray();
        }
    }

    public ValueTask DisposeAsync() => _file.DisposeAsync();
}

using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    private async Task SeedForTransferAsync()
    {
        await NewSessionAsync("s-1", "Alice", "Bob");
        await AppendAsync("s-1", 1205);
        await Store.TrimMessagesAsync("s-1", 1200, Ct);
        var s2 = await NewSessionAsync("s-2", "Carol");
        await Store.UpdateSessionAsync(s2 with { Title = "two", Metadata = new Dictionary<string, string> { ["k"] = "v" } }, Ct);
        await NewSessionAsync("empty");
    }

    [Fact]
    public virtual async Task ExportImport_IntoAnotherStore_KeepsSessionsSequencesAndVersions()
    {
        await SeedForTransferAsync();
        await using var target = OpenOtherMemoryStore();

        var report = await target.ImportAsync(Store.ExportAsync(Ct), cancellationToken: Ct);

        report.Should().Be(new ImportReport(3, 1200));
        foreach (var id in new[] { "s-1", "s-2", "empty" })
        {
            (await target.GetSessionAsync(id, Ct)).Should().BeEquivalentTo(await Store.GetSessionAsync(id, Ct));
            (await ReadAllAsync(target, id)).Should().BeEquivalentTo(await ReadAllAsync(Store, id), o => o.WithStrictOrdering());
        }

        (await target.AddMessageAsync(Message("s-1", "next"), Ct)).Sequence.Should().Be(1206);
    }

    [Fact]
    public virtual async Task Import_FromAnotherStore_WritesIntoThisStore()
    {
        await using var source = OpenOtherMemoryStore();
        await source.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);
        await source.AddMessagesAsync("s-1", Enumerable.Range(1, 30).Select(i => Message("s-1", $"m-{i}")).ToArray(), Ct);
        await source.TrimMessagesAsync("s-1", 20, Ct);

        await Store.ImportAsync(source.ExportAsync(Ct), cancellationToken: Ct);

        (await Store.GetSessionAsync("s-1", Ct)).Should().BeEquivalentTo(await source.GetSessionAsync("s-1", Ct));
        (await ReadAllAsync(Store, "s-1")).Select(m => m.Sequence).Should().Equal(Enumerable.Range(11, 20).Select(i => (long)i));
        (await Store.AddMessageAsync(Message("s-1", "m-5"), Ct)).Sequence.Should().Be(31);
    }

    [Fact]
    public virtual async Task Import_ExistingSessionWithoutReplace_ThrowsSessionAlreadyExists()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 2);

        var act = () => Store.ImportAsync(Store.ExportAsync(Ct), cancellationToken: Ct);

        await act.Should().ThrowAsync<SessionAlreadyExistsException>();
        (await ReadAllAsync(Store, "s-1")).Should().HaveCount(2);
    }

    [Fact]
    public virtual async Task BackupRestore_ToAStream_RestoresEverything()
    {
        await SeedForTransferAsync();
        var before = await ReadAllAsync(Store, "s-1");
        using var archive = new MemoryStream();
        await Store.BackupAsync(archive, Ct);

        await Store.DeleteSessionAsync("s-1", Ct);
        await Store.AddMessageAsync(Message("s-2", "after-backup"), Ct);
        archive.Position = 0;
        var report = await Store.RestoreAsync(archive, Ct);

        report.Should().Be(new ImportReport(3, 1200));
        (await ReadAllAsync(Store, "s-1")).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
        (await ReadAllAsync(Store, "s-2")).Should().BeEmpty("the restore replaces the session with its backed-up state");
    }

    [Fact]
    public virtual async Task Restore_TruncatedArchive_ThrowsStoreCorruptedAndKeepsTheStoredSession()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 3000);
        using var archive = new MemoryStream();
        await Store.BackupAsync(archive, Ct);
        await Store.AddMessageAsync(Message("s-1", "after-backup"), Ct);
        using var truncated = new MemoryStream(archive.ToArray()[..(int)(archive.Length / 2)]);

        var act = () => Store.RestoreAsync(truncated, Ct);

        await act.Should().ThrowAsync<StoreCorruptedException>();
        (await ReadAllAsync(Store, "s-1")).Should().HaveCount(3001, "the archive is refused before the session is touched");
    }

    [Fact]
    public virtual async Task Restore_ArchiveCutBetweenLines_ThrowsStoreCorrupted()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 10);
        using var archive = new MemoryStream();
        await Store.BackupAsync(archive, Ct);
        var lines = Gunzip(archive.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var cut = new MemoryStream(Gzip(string.Join('\n', lines[..^3]) + "\n"));

        var act = () => Store.RestoreAsync(cut, Ct);

        await act.Should().ThrowAsync<StoreCorruptedException>().WithMessage("*cut short*");
    }

    private static string Gunzip(byte[] data)
    {
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(data), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return reader.ReadToEnd();
    }

    private static byte[] Gzip(string text)
    {
        var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    [Fact]
    public virtual async Task Restore_NotAnArchive_ThrowsStoreCorrupted()
    {
        using var garbage = new MemoryStream("not gzip at all"u8.ToArray());

        var act = () => Store.RestoreAsync(garbage, Ct);

        await act.Should().ThrowAsync<StoreCorruptedException>();
    }
}

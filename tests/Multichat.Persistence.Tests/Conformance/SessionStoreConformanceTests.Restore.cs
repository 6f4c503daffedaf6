using System.IO.Compression;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Conformance;

/// <summary>Safe restore (issue #11): a damaged archive changes nothing, the three modes, and atomic sessions.</summary>
public abstract partial class SessionStoreConformanceTests
{
    public static TheoryData<string> ArchiveDamages => new() { "truncated", "byte-flipped", "counts-changed", "content-edited", "line-removed" };

    [Theory]
    [MemberData(nameof(ArchiveDamages))]
    public virtual async Task Restore_DamagedArchive_ThrowsStoreCorruptedAndChangesNothing(string damage)
    {
        var archive = await BackupThenChangeTheStoreAsync();
        var before = await SnapshotAsync(Store);

        var act = () => Store.RestoreAsync(new MemoryStream(Damage(archive, damage)), RestoreMode.Replace, cancellationToken: Ct);

        await act.Should().ThrowAsync<StoreCorruptedException>();
        (await SnapshotAsync(Store)).Should().Be(before, "a damaged archive is refused before any session is touched");
    }

    [Fact]
    public virtual async Task Restore_ModeFailWithASessionThatExists_ThrowsAndWritesNothing()
    {
        var archive = await BackupThenChangeTheStoreAsync();
        var before = await SnapshotAsync(Store);

        var act = () => Store.RestoreAsync(new MemoryStream(archive), RestoreMode.Fail, cancellationToken: Ct);

        await act.Should().ThrowAsync<SessionAlreadyExistsException>().WithMessage("*'s-2'*Nothing was written*");
        (await SnapshotAsync(Store)).Should().Be(before);
    }

    [Fact]
    public virtual async Task Restore_ModeSkip_KeepsStoredSessionsAndRestoresTheOthers()
    {
        var archive = await BackupThenChangeTheStoreAsync();
        var s2 = await ReadAllAsync(Store, "s-2");

        var report = await Store.RestoreAsync(new MemoryStream(archive), RestoreMode.Skip, cancellationToken: Ct);

        report.Should().Be(new ImportReport(1, 5) { SkippedSessions = 1 });
        (await ReadAllAsync(Store, "s-1")).Select(m => m.Id).Should().Equal("a-1", "a-2", "a-3", "a-4", "a-5");
        (await ReadAllAsync(Store, "s-2")).Should().BeEquivalentTo(s2, o => o.WithStrictOrdering());
        (await Store.GetSessionAsync("s-3", Ct)).Should().NotBeNull("sessions not in the archive stay");
    }

    [Fact]
    public virtual async Task Restore_ModeReplace_ReplacesTheArchivesSessionsAndKeepsTheOthers()
    {
        var archive = await BackupThenChangeTheStoreAsync();

        var report = await Store.RestoreAsync(new MemoryStream(archive), RestoreMode.Replace, cancellationToken: Ct);

        report.Should().Be(new ImportReport(2, 7));
        (await ReadAllAsync(Store, "s-1")).Select(m => m.Id).Should().Equal("a-1", "a-2", "a-3", "a-4", "a-5");
        (await ReadAllAsync(Store, "s-2")).Select(m => m.Id).Should().Equal("b-1", "b-2");
        (await Store.GetSessionAsync("s-2", Ct))!.LastSequence.Should().Be(2);
        (await Store.GetSessionAsync("s-3", Ct)).Should().NotBeNull("sessions not in the archive stay");
        (await Store.AddMessageAsync(Message("s-2", "b-3"), Ct)).Sequence.Should().Be(3);
    }

    [Fact]
    public virtual async Task Restore_StreamThatCannotSeek_IsCheckedAndRestored()
    {
        var archive = await BackupThenChangeTheStoreAsync();

        var report = await Store.RestoreAsync(new ForwardOnlyStream(archive), RestoreMode.Replace, cancellationToken: Ct);
        var damaged = () => Store.RestoreAsync(new ForwardOnlyStream(Damage(archive, "counts-changed")), RestoreMode.Replace, cancellationToken: Ct);

        report.Should().Be(new ImportReport(2, 7));
        await damaged.Should().ThrowAsync<StoreCorruptedException>();
    }

    [Fact]
    public virtual async Task Restore_WithProgress_ReportsUpToTheArchivesTotals()
    {
        var archive = await BackupThenChangeTheStoreAsync();
        var reports = new List<TransferProgress>();

        await Store.RestoreAsync(new MemoryStream(archive), RestoreMode.Replace, new SynchronousProgress(reports.Add), Ct);

        reports.Should().NotBeEmpty();
        reports[^1].Should().BeEquivalentTo(new { SessionsDone = 2, SessionsTotal = 2, MessagesDone = 7, MessagesTotal = 7 });
        reports.Select(r => r.SessionsDone).Should().BeInAscendingOrder();
    }

    [Fact]
    public virtual async Task Backup_WithProgress_ReportsUpToTheStoresTotalsAndTheBytesWritten()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 5, "a-");
        await NewSessionAsync("s-2");
        await AppendAsync("s-2", 2, "b-");
        var reports = new List<TransferProgress>();
        using var archive = new MemoryStream();

        await Store.BackupAsync(archive, new SynchronousProgress(reports.Add), Ct);

        reports[^1].Should().BeEquivalentTo(new { SessionsDone = 2, SessionsTotal = 2, MessagesDone = 7, MessagesTotal = 7 });
        reports[^1].Bytes.Should().Be(archive.Length);
    }

    [Fact]
    public virtual async Task ExportImportCleanup_WithProgress_ReportWhatTheyDid()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 5, "a-");
        var exported = new List<TransferProgress>();
        var imported = new List<TransferProgress>();
        var cleaned = new List<TransferProgress>();
        await using var target = OpenOtherMemoryStore();
        await using var limited = WithOptions(o => o.MaxMessagesPerSession = 3);

        await target.ImportAsync(Store.ExportAsync(new SynchronousProgress(exported.Add), Ct), replaceExisting: false, new SynchronousProgress(imported.Add), Ct);
        var report = await limited.CleanupAsync(new SynchronousProgress(cleaned.Add), Ct);

        exported[^1].Should().BeEquivalentTo(new { SessionsDone = 1, SessionsTotal = 1, MessagesDone = 5, MessagesTotal = 5 });
        imported[^1].Should().BeEquivalentTo(new { SessionsDone = 1, MessagesDone = 5 });
        report.TrimmedMessages.Should().Be(2);
        cleaned[^1].Should().BeEquivalentTo(new { SessionsDone = 1, MessagesDone = 2 });
    }

    [Fact]
    public virtual async Task Restore_FailsWhileReplacingASession_LeavesThatSessionAsItWas()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 2500, "a-");
        await NewSessionAsync("s-2");
        await AppendAsync("s-2", 2500, "b-");
        // The archive holds sessions in the store's listing order (bucket order on Redis), so the one replaced second
        // is whichever the listing gives second.
        var order = new List<string>();
        await foreach (var id in Store.Store.ListSessionIdsAsync(Ct))
        {
            order.Add(id);
        }

        var (first, second) = (order[0], order[1]);
        using var backup = new MemoryStream();
        await Store.BackupAsync(backup, Ct);
        await Store.DeleteSessionAsync(second, Ct);
        await NewSessionAsync(second, "Zed");
        await AppendAsync(second, 3, "z-");
        var before = await SnapshotAsync(Store, second);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // Cancelled once the second session's replacement has read its first batch: the first is restored, the
        // second must be untouched.
        var act = () => Store.RestoreAsync(
            new MemoryStream(backup.ToArray()), RestoreMode.Replace, new SynchronousProgress(p => { if (p.MessagesDone > 2500) { cancel.Cancel(); } }), cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        (await SnapshotAsync(Store, second)).Should().Be(before, "a session is replaced whole or not at all");
        (await ReadAllAsync(Store, first)).Should().HaveCount(2500);
    }

    [Fact]
    public virtual async Task VerifyBackup_AnArchive_SaysWhatItHoldsAndWritesNothing()
    {
        var archive = await BackupThenChangeTheStoreAsync();
        var before = await SnapshotAsync(Store);

        var info = await Store.VerifyBackupAsync(new MemoryStream(archive), Ct);
        var damaged = () => Store.VerifyBackupAsync(new MemoryStream(Damage(archive, "content-edited")), Ct);

        info.Should().BeEquivalentTo(new { Sessions = 2, Messages = 7, SourceStore = Store.Store.Name, FormatVersion = 2 });
        await damaged.Should().ThrowAsync<StoreCorruptedException>().WithMessage("*SHA-256*");
        (await SnapshotAsync(Store)).Should().Be(before);
    }

    /// <summary>Backs up s-1 (5 messages) and s-2 (2), then changes the store so any restore would show: s-1 deleted,
    /// s-2 with more messages, s-3 new.</summary>
    private async Task<byte[]> BackupThenChangeTheStoreAsync()
    {
        await NewSessionAsync("s-1");
        await AppendAsync("s-1", 5, "a-");
        await NewSessionAsync("s-2");
        await AppendAsync("s-2", 2, "b-");
        using var archive = new MemoryStream();
        await Store.BackupAsync(archive, Ct);
        await Store.DeleteSessionAsync("s-1", Ct);
        await Store.AddMessageAsync(Message("s-2", "later"), Ct);
        await NewSessionAsync("s-3");
        return archive.ToArray();
    }

    /// <summary>Every session (record and messages) of the store, as text to compare.</summary>
    private static async Task<string> SnapshotAsync(SessionPersistence store, string? only = null)
    {
        var text = new StringBuilder();
        var ids = new List<string>();
        await foreach (var id in store.Store.ListSessionIdsAsync(Ct))
        {
            ids.Add(id);
        }

        foreach (var id in ids.Where(i => only is null || i == only).Order(StringComparer.Ordinal))
        {
            text.AppendLine(JsonSerializer.Serialize(await store.GetSessionAsync(id, Ct)));
            foreach (var message in await ReadAllAsync(store, id))
            {
                text.AppendLine(JsonSerializer.Serialize(message));
            }
        }

        return text.ToString();
    }

    private static byte[] Damage(byte[] archive, string damage)
    {
        switch (damage)
        {
            case "truncated":
                return archive[..(archive.Length * 2 / 3)];
            case "byte-flipped":
                var flipped = archive.ToArray();
                flipped[flipped.Length / 2] ^= 0x20;
                return flipped;
        }

        var lines = Gunzip(archive).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        switch (damage)
        {
            case "counts-changed":
                lines[^1] = lines[^1].Replace("\"messages\":7", "\"messages\":8", StringComparison.Ordinal);
                break;
            case "content-edited":
                // By the message's id, not its text: with encryption on, the archive holds no plain text.
                var index = lines.FindIndex(l => l.Contains("\"a-3\"", StringComparison.Ordinal));
                var at = lines[index].IndexOf("\"content\":\"", StringComparison.Ordinal) + "\"content\":\"".Length;
                lines[index] = lines[index][..at] + (lines[index][at] == 'Q' ? 'R' : 'Q') + lines[index][(at + 1)..];
                break;
            case "line-removed":
                lines.RemoveAt(lines.FindIndex(l => l.Contains("\"a-3\"", StringComparison.Ordinal)));
                break;
        }

        return Gzip(string.Join('\n', lines) + "\n");
    }

    /// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, so a test sees every report at once.</summary>
    private sealed class SynchronousProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}

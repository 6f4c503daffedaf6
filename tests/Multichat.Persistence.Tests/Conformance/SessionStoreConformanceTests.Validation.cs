using FluentAssertions;

namespace Multichat.Persistence.Tests.Conformance;

public abstract partial class SessionStoreConformanceTests
{
    /// <summary>Ids every store must keep apart and round-trip (DESIGN §4.7): paths, devices, SQL, keys, case.</summary>
    public static TheoryData<string> AdversarialIds => new()
    {
        "../x",
        "..",
        ".",
        "a/b",
        "a\\b",
        "/etc/passwd",
        "CON",
        "nul.txt",
        "COM1",
        "x:y*?<>|\"",
        "'; DROP TABLE sessions; --",
        "{tag}",
        "multichat:s:{x}",
        " leading and trailing ",
        "日本語のセッション",
        "emoji 🚀👩‍💻",
        "%2e%2e%2f",
        "trailing.",
        new string('x', 256),
        new string('é', 256),
    };

    [Theory]
    [MemberData(nameof(AdversarialIds))]
    public virtual async Task AdversarialId_AsSessionMessageAndParticipantId_RoundTrips(string id)
    {
        await Store.CreateSessionAsync(id, [id, "other"], cancellationToken: Ct);
        await Store.AddMessageAsync(new ChatMessage { Id = id, SessionId = id, Sender = id, Recipient = id, Content = id }, Ct);

        var session = await Store.GetSessionAsync(id, Ct);
        var messages = await Store.GetMessagesAsync(id, 10, Ct);
        var listed = await Store.ListSessionsAsync(new SessionQuery { Participant = id }, Ct);

        session!.SessionId.Should().Be(id);
        session.Participants.Should().Equal(id, "other");
        messages.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Id = id, SessionId = id, Sender = id, Recipient = id, Content = id });
        listed.Sessions.Select(s => s.SessionId).Should().Equal(id);
        (await Store.DeleteSessionAsync(id, Ct)).Should().BeTrue();
        (await Store.GetSessionAsync(id, Ct)).Should().BeNull();
    }

    [Fact]
    public virtual async Task SessionIds_DifferingOnlyInCase_AreDistinctSessions()
    {
        await NewSessionAsync("Session", "upper");
        await NewSessionAsync("session", "lower");
        await NewSessionAsync("SESSION", "shout");
        await Store.AddMessageAsync(Message("session", "m-1"), Ct);

        (await Store.GetSessionAsync("Session", Ct))!.Participants.Should().Equal("upper");
        (await Store.GetSessionAsync("session", Ct))!.MessageCount.Should().Be(1);
        (await Store.GetSessionAsync("SESSION", Ct))!.MessageCount.Should().Be(0);
        (await Store.ListSessionsAsync(new SessionQuery(), Ct)).Sessions.Should().HaveCount(3);
    }

    [Fact]
    public virtual async Task MessageIds_DifferingOnlyInCase_AreDistinctMessages()
    {
        await NewSessionAsync();

        await Store.AddMessagesAsync("s-1", [Message("s-1", "m"), Message("s-1", "M")], Ct);

        (await ReadAllAsync(Store, "s-1")).Select(m => m.Id).Should().Equal("m", "M");
    }

    public static TheoryData<string> InvalidIds => new()
    {
        "",
        new string('x', 257),
        "line\nbreak",
        "nul\0char",
        "tab\tchar",
        "del\u007fchar",
        "c1\u0085control",
    };

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public virtual async Task CreateSession_InvalidId_ThrowsArgumentExceptionNamingItAndStoresNothing(string id)
    {
        var act = () => Store.CreateSessionAsync(id, ["a"], cancellationToken: Ct);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("sessionId");
        (await Store.ListSessionsAsync(new SessionQuery(), Ct)).Sessions.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public virtual async Task AddMessage_InvalidMessageId_ThrowsArgumentExceptionAndStoresNothing(string id)
    {
        await NewSessionAsync();

        var act = () => Store.AddMessageAsync(Message("s-1", id), Ct);

        await act.Should().ThrowAsync<ArgumentException>();
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Should().BeEmpty();
    }

    [Fact]
    public virtual async Task CreateSession_UnpairedSurrogateInId_ThrowsArgumentException()
    {
        // Built here rather than in theory data: test runners may rewrite a lone surrogate when they serialize cases.
        var id = "lone" + (char)0xD800 + "surrogate";

        var act = () => Store.CreateSessionAsync(id, ["a"], cancellationToken: Ct);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*surrogate*");
    }

    [Fact]
    public virtual async Task AddMessage_UnpairedSurrogateInContentOrMetadata_ThrowsArgumentExceptionAndStoresNothing()
    {
        await NewSessionAsync();
        var broken = "text " + (char)0xDC00 + " more";

        var inContent = () => Store.AddMessageAsync(Message("s-1", "m-1", content: broken), Ct);
        var inMetadata = () => Store.AddMessageAsync(Message("s-1", "m-2") with { Metadata = new Dictionary<string, string> { ["k"] = broken } }, Ct);

        await inContent.Should().ThrowAsync<ArgumentException>().WithMessage("*surrogate*");
        await inMetadata.Should().ThrowAsync<ArgumentException>().WithMessage("*surrogate*");
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Should().BeEmpty();
    }

    [Fact]
    public virtual async Task AddMessage_SurrogatePairsInContent_RoundTrip()
    {
        await NewSessionAsync();
        var text = "🚀 𝄞 " + new string('x', 40) + " 👩‍💻";

        await Store.AddMessageAsync(Message("s-1", "m-1", content: text), Ct);

        (await Store.GetMessagesAsync("s-1", 10, Ct)).Single().Content.Should().Be(text);
    }

    [Fact]
    public virtual async Task CreateSession_NullArguments_ThrowArgumentNullException()
    {
        var noId = () => Store.CreateSessionAsync(null!, ["a"], cancellationToken: Ct);
        var noParticipants = () => Store.CreateSessionAsync("s-1", null!, cancellationToken: Ct);

        await noId.Should().ThrowAsync<ArgumentNullException>();
        await noParticipants.Should().ThrowAsync<ArgumentNullException>();
    }

    [Fact]
    public virtual async Task CreateSession_RepeatedParticipant_ThrowsArgumentException()
    {
        var act = () => Store.CreateSessionAsync("s-1", ["a", "b", "a"], cancellationToken: Ct);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*twice*");
        (await Store.GetSessionAsync("s-1", Ct)).Should().BeNull();
    }

    [Fact]
    public virtual async Task AddMessage_ContentOverTheLimit_ThrowsArgumentExceptionNamingTheSetting()
    {
        var store = await OpenAsync(o => o.MaxContentLength = 100);
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);

        var act = () => store.AddMessageAsync(Message("s-1", "m-1", content: new string('x', 101)), Ct);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*MaxContentLength*");
        (await store.AddMessageAsync(Message("s-1", "m-2", content: new string('x', 100)), Ct)).Sequence.Should().Be(1);
    }

    [Fact]
    public virtual async Task AddMessage_PresetSequence_ThrowsArgumentException()
    {
        await NewSessionAsync();

        var act = () => Store.AddMessageAsync(Message("s-1", "m-1") with { Sequence = 7 }, Ct);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*leave it 0*");
    }

    [Fact]
    public virtual async Task CreateSession_TooMuchMetadata_ThrowsArgumentException()
    {
        var metadata = Enumerable.Range(0, 65).ToDictionary(i => $"k{i}", i => "v");

        var act = () => Store.CreateSessionAsync("s-1", ["a"], metadata: metadata, cancellationToken: Ct);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*MaxMetadataEntries*");
    }

    [Fact]
    public virtual async Task Operations_CanceledToken_ThrowOperationCanceled()
    {
        await NewSessionAsync();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        var append = () => Store.AddMessageAsync(Message("s-1", "m-1"), canceled.Token);
        var read = () => Store.GetMessagesAsync("s-1", 10, canceled.Token);

        await append.Should().ThrowAsync<OperationCanceledException>();
        await read.Should().ThrowAsync<OperationCanceledException>();
        (await Store.GetMessagesAsync("s-1", 10, Ct)).Should().BeEmpty();
    }
}

using System.Diagnostics;
using Multichat.Persistence;

/// <summary>
/// Two agents in two processes talking through the change feed: this process (the Asker) starts the Answerer as a
/// second process over the same store, sends it questions, and each waits on <see cref="SessionPersistence.WatchMessagesAsync"/>
/// for the other's messages, not on a timer. At the end the read states show what each has read.
/// <c>dotnet run --project samples/Multichat.Demo -- feed</c>
/// </summary>
internal static class FeedDemo
{
    private const string Asker = "Asker";
    private const string Answerer = "Answerer";

    private static readonly string[] Questions =
    [
        "What survives a restart?",
        "Who else can read it while we talk?",
        "How do I know what I have not read yet?",
    ];

    /// <summary>The Asker: creates the session, starts the Answerer, asks, and waits for each answer on the feed.</summary>
    public static async Task<int> RunAsync(StorageType storageType, string path, string[] storeArguments)
    {
        await using var persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = storageType, StoragePath = path });
        var sessionId = $"feed-demo-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss-fff}";
        await persistence.CreateSessionAsync(sessionId, [Asker, Answerer], title: "Two processes, one conversation");
        using var answerer = StartAnswerer(sessionId, storeArguments);
        try
        {
            Console.WriteLine($"Store: {storageType} ({path}); the Answerer runs as process {answerer.Id}.");

            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await using var feed = persistence.WatchMessagesAsync(sessionId, cancellationToken: timeout.Token).GetAsyncEnumerator(timeout.Token);
            for (var i = 0; i < Questions.Length; i++)
            {
                var asked = await persistence.AddMessageAsync(
                    new ChatMessage { Id = $"q-{i + 1}", SessionId = sessionId, Sender = Asker, Recipient = Answerer, Content = Questions[i] });
                Console.WriteLine($"  #{asked.Sequence} {Asker} -> {Answerer}: {asked.Content}");
                var answer = await NextFromAsync(feed, Answerer);
                Console.WriteLine($"  #{answer.Sequence} {Answerer} -> {Asker}: {answer.Content}");
                await persistence.MarkReadAsync(sessionId, Asker, answer.Sequence);
            }

            await persistence.AddMessageAsync(new ChatMessage { Id = "bye", SessionId = sessionId, Sender = Asker, Content = "Thanks, that is all." });
            await answerer.WaitForExitAsync(timeout.Token);
            foreach (var participant in new[] { Asker, Answerer })
            {
                var state = await persistence.GetReadStateAsync(sessionId, participant);
                Console.WriteLine($"{participant} has read up to #{state.LastReadSequence}, {state.UnreadCount} unread.");
            }

            return answerer.ExitCode;
        }
        finally
        {
            // Never leave the second process behind, whatever went wrong here.
            if (!answerer.HasExited)
            {
                answerer.Kill();
            }
        }
    }

    /// <summary>The Answerer (the second process): answers each question addressed to it until the Asker says goodbye.</summary>
    public static async Task<int> AnswerAsync(StorageType storageType, string path, string sessionId)
    {
        await using var persistence = SessionPersistence.Create(new SessionPersistenceOptions { StorageType = storageType, StoragePath = path });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await foreach (var message in persistence.WatchMessagesAsync(sessionId, cancellationToken: timeout.Token))
        {
            if (message.Sender != Asker)
            {
                continue;
            }

            if (message.Recipient is null)
            {
                // The goodbye: reading it is all there is to do.
                await persistence.MarkReadAsync(sessionId, Answerer, message.Sequence);
                return 0;
            }

            await persistence.AddMessageAsync(new ChatMessage
            {
                Id = $"a-{message.Id}",
                SessionId = sessionId,
                Sender = Answerer,
                Recipient = Asker,
                Content = Answer(message.Content),
            });
        }

        return 1;
    }

    private static string Answer(string question) => Array.IndexOf(Questions, question) switch
    {
        0 => "Every acknowledged message: it is on disk before the call returns.",
        1 => "Any process on this store: I am one, and I saw your question through the change feed.",
        _ => "Your read state: unread counts are computed from the sequences, so they cannot drift.",
    };

    private static async Task<ChatMessage> NextFromAsync(IAsyncEnumerator<ChatMessage> feed, string sender)
    {
        while (await feed.MoveNextAsync())
        {
            if (feed.Current.Sender == sender)
            {
                return feed.Current;
            }
        }

        throw new InvalidOperationException("The feed ended.");
    }

    /// <summary>This same program again (its apphost, or `dotnet demo.dll`), as the Answerer.</summary>
    private static Process StartAnswerer(string sessionId, string[] storeArguments)
    {
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(FeedDemo).Assembly.Location);
        }

        info.ArgumentList.Add("feed-answerer");
        info.ArgumentList.Add(sessionId);
        foreach (var argument in storeArguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }
}

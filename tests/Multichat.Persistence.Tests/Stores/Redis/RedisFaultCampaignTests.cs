using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Redis;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// A seeded campaign of dropped connections (CLIENT KILL from a second connection, and kill -9 with a restart) at
/// random moments during appends, batches, trims and imports, against a server with <c>appendfsync always</c>. After
/// each round: every acknowledged message present with its sequence, sequences gapless and never reused, a retry with
/// the same ids stores nothing twice, and the store works. <c>MULTICHAT_FAULT_ROUNDS</c> sets the rounds (default 3).
/// What <see cref="RedisFaultTests"/> covers already (one kill during plain appends, a timed-out append) is not repeated.
/// </summary>
public sealed class RedisFaultCampaignTests : IAsyncLifetime
{
    private const int TimeoutMs = 1000;
    private const int OperationsPerRound = 60;

    private static readonly string[] DurableArguments = ["--appendonly", "yes", "--appendfsync", "always"];

    private readonly Dictionary<string, long> _injected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private RedisServerProcess? _server;
    private SessionPersistence? _store;
    private RedisStore? _raw;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static int Rounds =>
        int.TryParse(Environment.GetEnvironmentVariable("MULTICHAT_FAULT_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var rounds) && rounds > 0 ? rounds : 3;

    private RedisServerProcess Server => _server!;

    private SessionPersistence Store => _store!;

    public async ValueTask InitializeAsync()
    {
        RedisFixture.RequireAvailable(RedisServerProcess.Executable is null ? "redis-server is not installed; the campaign needs a private server it can kill." : null);
        _server = await RedisServerProcess.StartAsync(DurableArguments);
        var options = new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = $"{Server.EndPoint},connectTimeout=5000,asyncTimeout={TimeoutMs},syncTimeout={TimeoutMs}",
        };
        _store = SessionPersistence.Create(options);

        // Message imports have no facade call of their own (ImportAsync reads an export file): the store itself.
        _raw = new RedisStore(StoreFactory.RedisOptions(options), NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        if (_raw is not null)
        {
            await _raw.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Writes_ConnectionDroppedAtRandomMoments_KeepEveryAcknowledgedMessageAndNeverDuplicate()
    {
        for (var round = 0; round < Rounds; round++)
        {
            await RunRoundAsync(round);
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"rounds {Rounds}; faults injected: {Describe(_injected)}; operation outcomes: {Describe(_outcomes)}");
        _injected.Values.Sum().Should().BePositive();
    }

    private static string Describe(Dictionary<string, long> counts) => string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));

    private static ChatMessage Message(string sessionId, string id, long sequence = 0) =>
        new()
        {
            Id = id,
            SessionId = sessionId,
            Sender = "a",
            Content = "content of " + id,
            Sequence = sequence,
            Timestamp = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(sequence),
        };

    private async Task RunRoundAsync(int round)
    {
        var random = new Random(9000 + round);
        var session = $"s-{round}";
        var imported = $"imp-{round}";
        await RetryAsync("create", () => Store.CreateSessionAsync(session, ["a"], cancellationToken: Ct), tolerate: typeof(SessionAlreadyExistsException));
        await RetryAsync("create", () => Store.CreateSessionAsync(imported, ["a"], cancellationToken: Ct), tolerate: typeof(SessionAlreadyExistsException));

        // The model: what the store acknowledged, exactly (every operation is retried until acknowledged).
        var acknowledged = new Dictionary<string, long>(StringComparer.Ordinal);
        long trimmedBelow = 0, lastSequence = 0, importedCount = 0, nextId = 0;
        var lastBatch = Array.Empty<ChatMessage>();

        using var stop = new CancellationTokenSource();
        var injector = InjectAsync(new Random(7000 + round), killServer: round % 2 == 1, stop.Token);
        for (var op = 0; op < OperationsPerRound; op++)
        {
            switch (random.Next(10))
            {
                case < 4:
                {
                    var message = Message(session, $"m-{nextId++}");
                    var stored = await RetryAsync("append", () => Store.AddMessageAsync(message, Ct));
                    acknowledged.Add(stored.Id, stored.Sequence);
                    lastBatch = [message];
                    break;
                }

                case < 7:
                {
                    var batch = Enumerable.Range(0, random.Next(2, 25)).Select(_ => Message(session, $"m-{nextId++}")).ToArray();
                    var stored = await RetryAsync("batch", () => Store.AddMessagesAsync(session, batch, Ct));
                    foreach (var message in stored)
                    {
                        acknowledged.Add(message.Id, message.Sequence);
                    }

                    lastBatch = batch;
                    break;
                }

                case < 9:
                {
                    var keep = random.Next(5, 40);
                    await RetryAsync("trim", () => Store.TrimMessagesAsync(session, keep, Ct));
                    var kept = acknowledged.Values.Where(s => s > trimmedBelow).OrderDescending().Take(keep).DefaultIfEmpty(trimmedBelow + 1).Min();
                    trimmedBelow = Math.Max(trimmedBelow, kept - 1);

                    // Trimmed ids leave the id map (documented): only a kept message's retry is deduplicated.
                    lastBatch = lastBatch.Where(m => acknowledged[m.Id] > trimmedBelow).ToArray();
                    break;
                }

                default:
                {
                    var batch = Enumerable.Range(0, random.Next(1, 10)).Select(i => Message(imported, $"i-{importedCount + i}", importedCount + i + 1)).ToArray();
                    await RetryAsync("import", async () =>
                    {
                        try
                        {
                            await _raw!.ImportMessagesAsync(imported, batch, Ct);
                        }
                        catch (ArgumentException)
                        {
                            // A retry of an import that was applied before its answer was lost: refused as not
                            // ascending, stored once (checked below).
                            Count(_outcomes, "import retry refused (applied before)");
                        }

                        return true;
                    });
                    importedCount += batch.Length;
                    break;
                }
            }

            lastSequence = Math.Max(lastSequence, acknowledged.Values.DefaultIfEmpty(0).Max());
        }

        await stop.CancelAsync();
        await injector;
        if (!Server.IsRunning)
        {
            await Server.RestartAsync();
        }

        await VerifyAsync(session, acknowledged, trimmedBelow, lastSequence, lastBatch);
        var importedMessages = await ReadAllAsync(imported);
        importedMessages.Select(m => m.Id).Should().Equal(Enumerable.Range(0, (int)importedCount).Select(i => $"i-{i}"), "each imported batch stored once, in order");
        importedMessages.Select(m => m.Sequence).Should().Equal(Enumerable.Range(1, (int)importedCount).Select(i => (long)i));
    }

    // The checks retry unavailability too: a fault injected just before the round ended may still be reconnecting.
    private async Task VerifyAsync(string session, Dictionary<string, long> acknowledged, long trimmedBelow, long lastSequence, ChatMessage[] lastBatch)
    {
        var all = await ReadAllAsync(session);
        var stored = all.ToDictionary(m => m.Id, m => m.Sequence, StringComparer.Ordinal);
        acknowledged.Where(a => a.Value > trimmedBelow && (!stored.TryGetValue(a.Key, out var sequence) || sequence != a.Value))
            .Should().BeEmpty("every acknowledged message not trimmed is stored with its sequence (appendfsync always)");
        stored.Keys.Should().BeSubsetOf(acknowledged.Keys, "nothing unacknowledged or duplicated appears");
        acknowledged.Values.Should().OnlyHaveUniqueItems("no sequence is issued twice");
        if (all.Count > 0)
        {
            all.Select(m => m.Sequence).Should().Equal(Enumerable.Range((int)all[0].Sequence, all.Count).Select(i => (long)i), "the kept sequences are gapless");
        }

        var record = await RetryAsync("verify", () => Store.GetSessionAsync(session, Ct));
        record!.LastSequence.Should().Be(lastSequence, "the last issued sequence survives every fault");
        record.MessageCount.Should().Be(all.Count);

        // A retry of the last acknowledged write with the same ids stores nothing and answers the originals.
        if (lastBatch.Length == 0 && all.Count > 0)
        {
            lastBatch = [Message(session, all[^1].Id)];
        }

        if (lastBatch.Length > 0)
        {
            var again = await RetryAsync("verify", () => Store.AddMessagesAsync(session, lastBatch, Ct));
            again.Select(m => m.Sequence).Should().Equal(lastBatch.Select(m => acknowledged[m.Id]));
            (await ReadAllAsync(session)).Should().HaveCount(all.Count);
        }

        // And the store works: the next append gets the next sequence.
        var next = await RetryAsync("verify", () => Store.AddMessageAsync(Message(session, "after-" + session), Ct));
        next.Sequence.Should().Be(lastSequence + 1, "a sequence is never reused");
    }

    private async Task<List<ChatMessage>> ReadAllAsync(string session)
    {
        var all = new List<ChatMessage>();
        MessageQuery? query = new() { Limit = 1000 };
        while (query is not null)
        {
            var page = await RetryAsync("verify", () => Store.GetMessagesAsync(session, query, Ct));
            all.AddRange(page.Messages);
            query = page.Next;
        }

        return all;
    }

    private async Task InjectAsync(Random random, bool killServer, CancellationToken stop)
    {
        var kills = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(random.Next(5, 60), stop);
                if (killServer && kills < 2 && random.Next(8) == 0)
                {
                    Server.Kill();
                    Count(_injected, "kill -9 + restart");
                    kills++;
                    await Task.Delay(random.Next(0, 100), CancellationToken.None);
                    await Server.RestartAsync();
                    continue;
                }

                using var admin = await ConnectionMultiplexer.ConnectAsync($"{Server.EndPoint},allowAdmin=true,connectTimeout=2000");

                // SKIPME yes (the default) keeps this connection; every connection of the store is dropped.
                await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "normal");
                Count(_injected, "CLIENT KILL");
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The round is over.
        }
    }

    private async Task<T> RetryAsync<T>(string operation, Func<Task<T>> call, Type? tolerate = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var result = await call();
                Count(_outcomes, operation + " ok");
                return result;
            }
            catch (StoreUnavailableException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                Count(_outcomes, operation + " unavailable (retried)");
                await Task.Delay(20, Ct);
            }
            catch (Exception ex) when (tolerate is not null && tolerate.IsInstanceOfType(ex))
            {
                Count(_outcomes, operation + " " + ex.GetType().Name + " (retry of an applied call)");
                return default!;
            }
        }
    }

    private void Count(Dictionary<string, long> counts, string key)
    {
        lock (counts)
        {
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
    }
}

using Multichat.Persistence.Stores.Json;
using static Multichat.Persistence.Tests.Fuzzing.FuzzChecks;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Issue #12 item 6, hostile files: the Json store's readers of <c>messages.jsonl</c>, <c>session.json</c>,
/// <c>format.json</c> and <c>ids.idx</c>, driven through the public API. Each iteration resets a working copy of a
/// template store, damages one file, opens the store, reads the session (GetSession, every page in both orders, a
/// window between two sequences), lists, counts, appends one message, retries a stored one and checks health.
/// </summary>
/// <remarks>
/// The store is opened anew every iteration: an open instance caches what it read (the record, the file's ends, the id
/// file's mapping, which must never be rewritten under it), so a mutation made beside an open instance would partly
/// go unseen; the open costs about a third of an iteration. What may come out, per damaged file (docs/storage/json.md,
/// "Damage"):
/// <list type="bullet">
/// <item><c>format.json</c>: <see cref="StoreCorruptedException"/> when the store opens, else nothing: every call works.</item>
/// <item><c>session.json</c>: <see cref="StoreCorruptedException"/> for every call on that session (and it is not
/// listed), or none at all; the bystander session is never affected.</item>
/// <item><c>messages.jsonl</c> and <c>ids.idx</c>: no exception. Damaged lines are skipped, the rest is served (exactly
/// the intact lines, when <see cref="JsonReadBack"/> can tell which), the id file is rebuilt.</item>
/// </list>
/// No ArgumentException anywhere: every argument the test passes is valid.
/// </remarks>
[Collection(FuzzGroup.Name)]
public sealed class JsonStoreFuzzTests : IAsyncLifetime
{
    private JsonFuzzStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _store = await JsonFuzzStore.CreateAsync(Ct);

    public ValueTask DisposeAsync()
    {
        _store.Dispose();
        return ValueTask.CompletedTask;
    }

    // The target's inputs (10,000 by default) are shared by its four files, the messages file, whose readers do the most,
    // getting the largest part; format.json has one reader and two fields worth checking.
    [Fact]
    public Task MessagesFile_Mutated_ServesTheIntactLinesAndThrowsNothing() => RunAsync("messages.jsonl", 61_201, 0.4);

    [Fact]
    public Task SessionRecord_Mutated_FailsTypedForThatSessionAloneOrServesIt() => RunAsync("session.json", 61_202, 0.25);

    [Fact]
    public Task FormatFile_Mutated_IsRefusedTypedAtOpenOrServesEverything() => RunAsync("format.json", 61_203, 0.1);

    [Fact]
    public Task IdFile_Mutated_IsRebuiltAndThrowsNothing() => RunAsync("ids.idx", 61_204, 0.25);

    private Task RunAsync(string file, int seed, double share) =>
        new FuzzRun($"json {file}", seed, share).RunAsync((_, random, fuzzCase, ct) => IterateAsync(file, random, fuzzCase, ct));

    private async Task<string> IterateAsync(string file, Random random, FuzzCase fuzzCase, CancellationToken ct)
    {
        _store.Reset();
        var bytes = Mutate(file, random, out var what, out var forged);
        fuzzCase.Input = $"{file}: {what}";
        File.WriteAllBytes(_store.PathOf(file), bytes);
        var before = _store.Outside();
        var outcome = await ExerciseAsync(file, bytes, forged, random, ct);
        var after = _store.Outside();
        Rule(before.SequenceEqual(after), $"files or folders appeared or vanished outside the session's folder: before [{string.Join(", ", before)}], after [{string.Join(", ", after)}]");
        return outcome;
    }

    private byte[] Mutate(string file, Random random, out string what, out bool forged)
    {
        forged = false;
        var template = _store.TemplateOf(file);
        switch (file)
        {
            case "messages.jsonl":
                return ByteMutations.Mutate(template, random, _store.SpliceLines, out what);
            case "ids.idx" when random.Next(5) > 0:
                var ends = _store.Lines.Select(l => (long)l.Line.Length).ToList();
                for (var i = 1; i < ends.Count; i++)
                {
                    ends[i] += ends[i - 1];
                }

                return IdFileMutations.Mutate(template, ends, random, out what, out forged);
            case "session.json" or "format.json" when random.Next(2) == 0:
                var mutated = JsonValueMutations.Mutate(template, random, out what);
                return mutated ?? throw new InvalidOperationException($"The template's {file} is not JSON.");
            default:
                return ByteMutations.Mutate(template, random, [], out what);
        }
    }

    private async Task<string> ExerciseAsync(string file, byte[] bytes, bool forged, Random random, CancellationToken ct)
    {
        var (opened, refused) = await Typed("SessionPersistence.Create", () => Task.FromResult(SessionPersistence.Create(_store.Options())),
            ex => file == "format.json" && ex is StoreCorruptedException);
        if (refused is not null)
        {
            return "format.json refused at open (StoreCorruptedException)";
        }

        await using var store = opened!;
        await CheckBystanderAsync(store, ct);
        var recordMayFail = file == "session.json";
        var (session, damaged) = await Typed("GetSessionAsync", () => store.GetSessionAsync(JsonFuzzStore.Target, ct), ex => recordMayFail && ex is StoreCorruptedException);
        if (damaged is not null)
        {
            await CheckRefusedEverywhereAsync(store, ct);
            return "session.json damaged: StoreCorruptedException for every call on it, not listed";
        }

        Rule(session is not null, "GetSessionAsync found no session although its record is there");
        var prediction = file switch
        {
            "messages.jsonl" => JsonReadBack.Predict(bytes, _store.Lines, _store.Messages),
            "session.json" => null, // a valid but wrong floor or counter is taken as written: the messages checked below are the template's
            _ => new JsonReadBack(_store.Messages.Select(m => m.Sequence).ToHashSet(), null),
        };

        // Mostly one page a way (the readers' cost is per line, the pipeline's per call); small pages now and then for the cursors.
        var limit = random.Next(20) switch { 0 => 3, < 6 => 17, _ => 100 };
        var oldest = await ReadAllAsync(store, MessageOrder.OldestFirst, limit, ct);
        var newest = await ReadAllAsync(store, MessageOrder.NewestFirst, limit, ct);
        var served = CheckServed(file, prediction, oldest, newest);
        await CheckWindowAsync(store, file, prediction, random, ct);
        await CheckListingAsync(store, listed: true, ct);

        // A sequence at the bound (docs/storage/json.md, "Damage") leaves no room: that append alone is refused, typed.
        var full = session!.LastSequence >= JsonMessageLine.MaxSequence;
        var (stored, refusedAppend) = await Typed("AddMessageAsync", () => store.AddMessageAsync(NewMessage("fuzz-new"), ct), ex => full && ex is StoreCorruptedException);
        if (refusedAppend is not null)
        {
            return "served, append refused at the sequence bound";
        }

        var added = stored!;
        Rule(added.Sequence > _store.LastSequence, $"the new message got sequence {added.Sequence}; {_store.LastSequence} was issued already");
        var top = (await Typed("GetMessagesAsync(newest 1)", () => store.GetMessagesAsync(JsonFuzzStore.Target, new MessageQuery { Order = MessageOrder.NewestFirst, Limit = 1 }, ct), _ => false)).Value!;
        Rule(top.Messages.Count == 1 && Same(top.Messages[0], added), $"the newest message is [{Show(top.Messages)}], not the one just added ({added.Sequence}:{added.Id})");
        var retried = await CheckRetryAsync(store, file, prediction, forged, served, random, ct);
        await Typed("CheckHealthAsync", () => store.CheckHealthAsync(ct), _ => false);
        return prediction is null ? $"served, not predicted{retried}" : served.Count == _store.Messages.Count ? $"served whole{retried}" : $"served the intact lines{retried}";
    }

    /// <summary>Every call on a session with a damaged record fails with StoreCorruptedException, and listings leave it out.</summary>
    private static async Task CheckRefusedEverywhereAsync(SessionPersistence store, CancellationToken ct)
    {
        static bool Corrupted(Exception ex) => ex is StoreCorruptedException;
        var calls = new (string, Func<Task<object?>>)[]
        {
            ("GetMessagesAsync", async () => await store.GetMessagesAsync(JsonFuzzStore.Target, new MessageQuery { Limit = 5 }, ct)),
            ("GetMessagesAsync(newest)", async () => await store.GetMessagesAsync(JsonFuzzStore.Target, new MessageQuery { Limit = 5, Order = MessageOrder.NewestFirst }, ct)),
            ("AddMessageAsync", async () => await store.AddMessageAsync(NewMessage("fuzz-new"), ct)),
        };
        foreach (var (what, call) in calls)
        {
            var (_, error) = await Typed(what, call, Corrupted);
            Rule(error is not null, $"{what} succeeded although GetSessionAsync found the record damaged");
        }

        await CheckListingAsync(store, listed: false, ct);
        var health = (await Typed("CheckHealthAsync", () => store.CheckHealthAsync(ct), _ => false)).Value!;
        Rule(health.Status == StoreHealthStatus.Degraded, $"health is {health.Status} with a damaged record");
    }

    private async Task CheckBystanderAsync(SessionPersistence store, CancellationToken ct)
    {
        var session = (await Typed("GetSessionAsync(bystander)", () => store.GetSessionAsync(JsonFuzzStore.Bystander, ct), _ => false)).Value;
        Rule(session is { MessageCount: JsonFuzzStore.BystanderMessages }, $"the bystander session reads as {session}");
        var page = (await Typed("GetMessagesAsync(bystander)", () => store.GetMessagesAsync(JsonFuzzStore.Bystander, new MessageQuery { Limit = 100 }, ct), _ => false)).Value!;
        Rule(page.Messages.Count == _store.BystanderStored.Count && page.Messages.Zip(_store.BystanderStored).All(p => Same(p.First, p.Second)), $"the bystander's messages read as [{Show(page.Messages)}]");
    }

    private static async Task CheckListingAsync(SessionPersistence store, bool listed, CancellationToken ct)
    {
        var page = (await Typed("ListSessionsAsync", () => store.ListSessionsAsync(new SessionQuery { Limit = 100 }, ct), _ => false)).Value!;
        var ids = page.Sessions.Select(s => s.SessionId).ToHashSet();
        Rule(ids.Contains(JsonFuzzStore.Bystander), "the bystander session is not listed");
        Rule(ids.Contains(JsonFuzzStore.Target) == listed, $"the target session is {(listed ? "not " : "")}listed although every call on it {(listed ? "works" : "fails")}");
        var statistics = (await Typed("GetStatisticsAsync", () => store.GetStatisticsAsync(ct), _ => false)).Value!;
        Rule(statistics.SessionCount == ids.Count, $"statistics count {statistics.SessionCount} sessions, the listing {ids.Count}");
    }

    /// <summary>Every page of the target in one order, following the cursors; a cursor that does not move on is a loop.</summary>
    private async Task<List<ChatMessage>> ReadAllAsync(SessionPersistence store, MessageOrder order, int limit, CancellationToken ct)
    {
        var all = new List<ChatMessage>();
        MessageQuery? query = new() { Order = order, Limit = limit };
        for (var pages = 0; query is not null; pages++)
        {
            Rule(pages <= _store.Messages.Count + 2, $"{order} paging did not end after {pages} pages of {limit}: [{Show(all.TakeLast(20))}]");
            var current = query;
            var page = (await Typed($"GetMessagesAsync({order}, {limit})", () => store.GetMessagesAsync(JsonFuzzStore.Target, current, ct), _ => false)).Value!;
            all.AddRange(page.Messages);
            query = page.Next;
        }

        return all;
    }

    /// <summary>What was served against what must be; returns the sequences served unchanged from the template.</summary>
    private HashSet<long> CheckServed(string file, JsonReadBack? prediction, List<ChatMessage> oldest, List<ChatMessage> newest)
    {
        var template = _store.Messages.ToDictionary(m => m.Sequence);
        var unchanged = oldest.Where(m => template.TryGetValue(m.Sequence, out var t) && Same(m, t)).Select(m => m.Sequence).ToHashSet();
        if (file == "messages.jsonl" && prediction is null)
        {
            return unchanged; // lines moved or repeated: what a page holds is not predicted, only that paging ends
        }

        Rule(oldest.Zip(oldest.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), $"oldest-first pages are not ascending: [{Show(oldest)}]");
        Rule(newest.Select(m => m.Sequence).SequenceEqual(oldest.Select(m => m.Sequence).Reverse()), $"newest-first [{Show(newest)}] is not oldest-first [{Show(oldest)}] reversed");
        if (prediction is null)
        {
            // session.json: its floor may hide messages, but whatever is served is the template's, unchanged.
            Rule(unchanged.Count == oldest.Count, $"messages other than the stored ones were served: [{Show(oldest.Where(m => !unchanged.Contains(m.Sequence)))}]");
            return unchanged;
        }

        var missing = prediction.Served.Where(s => !unchanged.Contains(s)).ToList();
        var extra = oldest.Where(m => !prediction.Served.Contains(m.Sequence) && m.Sequence != prediction.Maybe).ToList();
        Rule(missing.Count == 0 && extra.Count == 0, $"served [{Show(oldest)}]: intact lines missing or changed [{string.Join(" ", missing)}], not expected [{Show(extra)}]");
        return unchanged;
    }

    /// <summary>A page between two sequences: found by the offset search, which must step over damaged lines.</summary>
    private async Task CheckWindowAsync(SessionPersistence store, string file, JsonReadBack? prediction, Random random, CancellationToken ct)
    {
        var after = random.Next((int)_store.LastSequence);
        var before = after + random.Next(2, 40);
        var order = random.Next(2) == 0 ? MessageOrder.OldestFirst : MessageOrder.NewestFirst;
        var query = new MessageQuery { AfterSequence = after, BeforeSequence = before, Order = order, Limit = 100 };
        var page = (await Typed($"GetMessagesAsync(after {after}, before {before}, {order})", () => store.GetMessagesAsync(JsonFuzzStore.Target, query, ct), _ => false)).Value!;
        if (prediction is null || file == "session.json")
        {
            return;
        }

        var expected = prediction.Served.Where(s => s > after && s < before).ToHashSet();
        var got = page.Messages.Select(m => m.Sequence).Where(s => s != prediction.Maybe).ToHashSet();
        Rule(got.SetEquals(expected), $"the window ({after}, {before}) {order} served [{Show(page.Messages)}], expected [{string.Join(" ", expected.Order())}]");
    }

    /// <summary>A retry of a stored message returns it, never a second copy (the id file is rebuilt when it does not check out).</summary>
    private async Task<string> CheckRetryAsync(SessionPersistence store, string file, JsonReadBack? prediction, bool forged, HashSet<long> served, Random random, CancellationToken ct)
    {
        var candidates = (prediction?.Served ?? served).Where(served.Contains).Order().ToList();
        if (candidates.Count == 0)
        {
            return "";
        }

        var pick = candidates[random.Next(candidates.Count)];
        var original = _store.Messages.First(m => m.Sequence == pick);
        var retry = NewMessage(original.Id) with { Content = original.Content };
        var answer = (await Typed($"AddMessageAsync(retry of {original.Id})", () => store.AddMessageAsync(retry, ct), _ => false)).Value!;
        if (forged || (prediction is null && file == "messages.jsonl"))
        {
            return ""; // a forged table or moved lines: a retry may store a copy (docs/storage/json.md, "Damage")
        }

        // A changed line may carry the retried id too (a digit of its id deleted): it then reads as a copy of it.
        Rule(answer.Sequence == original.Sequence || answer.Sequence == prediction?.Maybe, $"a retry of {original.Sequence}:{original.Id} returned {answer.Sequence}:{answer.Id}");
        return ", retry found";
    }

    private static ChatMessage NewMessage(string id) =>
        new() { Id = id, SessionId = JsonFuzzStore.Target, Sender = "agent-1", Content = "appended after the damage" };
}

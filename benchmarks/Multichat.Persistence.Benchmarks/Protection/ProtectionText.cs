using System.Text;

namespace Multichat.Persistence.Benchmarks.Protection;

/// <summary>Realistic multi-agent chat text, generated from a fixed seed: turns of prose, lists and fenced code blocks
/// of the kind coding agents exchange, so compression figures are not flattered by repetition of one sentence.</summary>
internal static class ProtectionText
{
    private static readonly string[] Words =
    [
        "parser", "token", "refactor", "the", "a", "we", "should", "test", "failing", "because", "null", "reference", "async",
        "await", "stream", "buffer", "index", "session", "message", "agent", "review", "merge", "commit", "branch", "retry",
        "timeout", "latency", "cache", "invalidate", "schema", "migration", "column", "query", "plan", "result", "error",
        "handler", "request", "response", "payload", "JSON", "field", "value", "config", "option", "default", "edge", "case",
    ];

    private static readonly string[] Code =
    [
        "public async Task<Result> HandleAsync(Request request, CancellationToken ct)\n{\n    var session = await _store.GetSessionAsync(request.SessionId, ct);\n    if (session is null)\n    {\n        return Result.NotFound(request.SessionId);\n    }\n\n    return Result.Ok(session);\n}",
        "def tokenize(text: str) -> list[str]:\n    tokens = []\n    for match in PATTERN.finditer(text):\n        tokens.append(match.group(0))\n    return tokens",
        "SELECT session_id, MAX(seq) AS last_seq\nFROM messages\nWHERE updated_at > @since\nGROUP BY session_id\nORDER BY last_seq DESC\nLIMIT 50;",
        "for (var i = 0; i < items.Count; i++)\n{\n    if (items[i].Id == id)\n    {\n        return i;\n    }\n}\nreturn -1;",
    ];

    /// <summary>One message of about <paramref name="size"/> characters.</summary>
    public static string Content(int size, int seed = 42) => Turn(new Random(seed), size);

    /// <summary>A conversation: <paramref name="turns"/> messages of 80 to 3,000 characters, a third with a code block.</summary>
    public static IEnumerable<string> Conversation(int turns, int seed = 42)
    {
        var random = new Random(seed);
        for (var i = 0; i < turns; i++)
        {
            yield return Turn(random, random.Next(80, 3000));
        }
    }

    private static string Turn(Random random, int size)
    {
        var text = new StringBuilder(size + 400);
        text.Append("@Agent-").Append(random.Next(1, 4)).Append(' ');

        // A third of the turns carry one code block, somewhere in the first half.
        var codeAt = random.Next(3) == 0 ? random.Next(size / 2) : -1;
        while (text.Length < size)
        {
            if (codeAt >= 0 && text.Length >= codeAt)
            {
                text.Append("\n```\n").Append(Code[random.Next(Code.Length)].Replace("items", Words[random.Next(Words.Length)] + "s", StringComparison.Ordinal)).Append("\n```\n");
                codeAt = -1;
                continue;
            }

            if (random.Next(10) == 0)
            {
                text.Append("\n- ");
            }

            text.Append(Words[random.Next(Words.Length)]);
            text.Append(random.Next(12) == 0 ? ". " : " ");
            if (random.Next(40) == 0)
            {
                text.Append(random.Next(1000, 99999)).Append(' ');
            }
        }

        return text.ToString(0, Math.Min(text.Length, size));
    }
}

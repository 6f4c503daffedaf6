namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>The rules every fuzz target applies to what comes out: which exception types may, and equality of records.</summary>
internal static class FuzzChecks
{
    /// <summary>
    /// Runs <paramref name="operation"/>; returns its result, or the exception when <paramref name="allowed"/> accepts
    /// it. Any other exception breaks the rule "only documented typed exceptions come out".
    /// </summary>
    public static async Task<(T? Value, Exception? Error)> Typed<T>(string what, Func<Task<T>> operation, Func<Exception, bool> allowed)
    {
        try
        {
            return (await operation(), null);
        }
        catch (Exception ex) when (ex is not FuzzViolationException && allowed(ex))
        {
            return (default, ex);
        }
        catch (Exception ex) when (ex is not FuzzViolationException)
        {
            throw new FuzzViolationException($"{what} threw {ex.GetType().FullName}: {ex.Message}\n{ex}");
        }
    }

    public static void Rule(bool holds, string what)
    {
        if (!holds)
        {
            throw new FuzzViolationException(what);
        }
    }

    /// <summary>Field by field, metadata by content: records compare dictionaries by reference.</summary>
    public static bool Same(ChatMessage a, ChatMessage b) =>
        a.Id == b.Id && a.SessionId == b.SessionId && a.Sender == b.Sender && a.Recipient == b.Recipient && a.Content == b.Content
        && a.Timestamp == b.Timestamp && a.Sequence == b.Sequence && a.Metadata.Count == b.Metadata.Count
        && a.Metadata.All(p => b.Metadata.TryGetValue(p.Key, out var v) && v == p.Value);

    public static string Show(IEnumerable<ChatMessage> messages) => string.Join(" ", messages.Select(m => $"{m.Sequence}:{m.Id}"));
}

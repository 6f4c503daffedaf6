using FluentAssertions;

namespace Multichat.Persistence.Tests.Infrastructure;

/// <summary>Reads a whole session page by page and checks the order guarantee; shared by every store's tests.</summary>
public static class StoredMessages
{
    public static async Task<List<ChatMessage>> ReadAllAsync(SessionPersistence store, string sessionId, CancellationToken cancellationToken)
    {
        var all = new List<ChatMessage>();
        MessageQuery? query = new() { Limit = 500 };
        while (query is not null)
        {
            var page = await store.GetMessagesAsync(sessionId, query, cancellationToken);
            all.AddRange(page.Messages);
            query = page.Next;
        }

        return all;
    }

    /// <summary>Sequences <paramref name="first"/>, first + 1, … without gap or repeat, and no id twice.</summary>
    public static void ShouldBeGapless(IReadOnlyList<ChatMessage> messages, long first = 1)
    {
        messages.Select(m => m.Sequence).Should().Equal(Enumerable.Range(0, messages.Count).Select(i => first + i));
        messages.Select(m => m.Id).Should().OnlyHaveUniqueItems();
    }
}

namespace Multichat.Persistence.Benchmarks.Memory;

/// <summary>The least an in-memory message log can do: the raw baseline of the Memory benchmarks.</summary>
internal sealed class RawMemoryLog
{
    private readonly object _gate = new();
    private readonly List<ChatMessage> _messages = [];
    private readonly Dictionary<string, ChatMessage> _byId = new(StringComparer.Ordinal);

    public void Append(ChatMessage message)
    {
        lock (_gate)
        {
            if (_byId.ContainsKey(message.Id))
            {
                return;
            }

            var stored = message with { Sequence = _messages.Count + 1 };
            _messages.Add(stored);
            _byId.Add(stored.Id, stored);
        }
    }

    public void Append(IEnumerable<ChatMessage> batch)
    {
        lock (_gate)
        {
            foreach (var message in batch)
            {
                if (_byId.ContainsKey(message.Id))
                {
                    continue;
                }

                var stored = message with { Sequence = _messages.Count + 1 };
                _messages.Add(stored);
                _byId.Add(stored.Id, stored);
            }
        }
    }

    public ChatMessage[] Latest(int count)
    {
        lock (_gate)
        {
            var take = Math.Min(count, _messages.Count);
            var result = new ChatMessage[take];
            _messages.CopyTo(_messages.Count - take, result, 0, take);
            return result;
        }
    }
}

namespace Multichat.Persistence.Stores.Json;

/// <summary>The committed end of a messages file and its last message, as <see cref="JsonMessagesFile.FindTail"/> found them.</summary>
internal readonly record struct JsonTail(long CommittedEnd, long LastSequence, DateTimeOffset? LastAt);

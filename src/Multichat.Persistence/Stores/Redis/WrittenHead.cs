namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// What this instance last wrote in one session, as far as a replica's answer can be checked against it (see
/// <see cref="RedisWrittenHeads"/>).
/// </summary>
/// <param name="Kind">What a replica must show.</param>
/// <param name="CreatedTicks">The session's <see cref="ChatSession.CreatedAt"/> ticks when known: tells one life of a
/// session id from the next (a replica that missed a delete and re-create still shows the old one).</param>
/// <param name="LastSequence">The least last sequence a replica must show.</param>
/// <param name="Version">The least record version a replica must show.</param>
internal readonly record struct WrittenHead(WrittenHeadKind Kind, long? CreatedTicks, long LastSequence, long Version);

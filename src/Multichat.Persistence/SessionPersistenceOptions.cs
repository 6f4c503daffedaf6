namespace Multichat.Persistence;

/// <summary>
/// Settings of <see cref="SessionPersistence"/>: which store, where, and the limits applied to input and history.
/// Bound from configuration by <c>AddSessionPersistence(IConfiguration)</c>; checked by
/// <see cref="SessionPersistenceOptionsValidator"/> when the facade is created.
/// </summary>
public sealed class SessionPersistenceOptions
{
    /// <summary>The default of <see cref="StoragePath"/>.</summary>
    public const string DefaultStoragePath = "sessions";

    /// <summary>The default of <see cref="RedisKeyPrefix"/>.</summary>
    public const string DefaultRedisKeyPrefix = "multichat:";

    /// <summary>Which store to open. Default <see cref="Persistence.StorageType.Json"/>.</summary>
    public StorageType StorageType { get; set; } = StorageType.Json;

    /// <summary>
    /// Where the store keeps its data: a folder for Json and Sqlite (Sqlite uses <c>{StoragePath}/sessions.db</c>),
    /// a <c>redis://host:port[/db]</c> URL for Redis; ignored by Memory. Default <c>"sessions"</c> (relative to the
    /// working directory).
    /// </summary>
    public string StoragePath { get; set; } = DefaultStoragePath;

    /// <summary>
    /// Overrides <see cref="StoragePath"/> for Sqlite (a Microsoft.Data.Sqlite connection string) and Redis (a
    /// StackExchange.Redis configuration string). Default none.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How far an acknowledged write has travelled (Json, Sqlite). Default <see cref="Durability.Normal"/>.</summary>
    public Durability Durability { get; set; } = Durability.Normal;

    /// <summary>The Unix permissions of the folders and files the Json and Sqlite stores, their maintenance leases and
    /// backups create: <see cref="Persistence.FilePermissions.OwnerOnly"/> (the default: folders <c>0700</c>, files
    /// <c>0600</c>, given as each is created) or <see cref="Persistence.FilePermissions.Inherit"/> (the process's umask
    /// decides, as for any file it creates). An existing folder or file keeps its mode. Ignored on Windows. See
    /// docs/storage-formats.md, "File permissions".</summary>
    public FilePermissions FilePermissions { get; set; } = FilePermissions.OwnerOnly;

    /// <summary>The key prefix of every Redis key, so several applications can share one Redis. Default <c>"multichat:"</c>.</summary>
    public string RedisKeyPrefix { get; set; } = DefaultRedisKeyPrefix;

    /// <summary>Which Redis server answers reads of a session's record and messages: <see cref="Persistence.ReadFrom.Primary"/>
    /// (the default) or <see cref="Persistence.ReadFrom.PreferReplica"/> (a replica when one is connected; this instance
    /// still reads its own writes, other instances' writes may show late unless <see cref="MinReplicas"/> is set). Redis only.
    /// See docs/storage/redis.md, "Replicas and Sentinel".</summary>
    public ReadFrom ReadFrom { get; set; } = ReadFrom.Primary;

    /// <summary>How many replicas must have every write of the Redis store before it is acknowledged (<c>WAIT</c>, or
    /// <c>WAITAOF</c> on Redis 7.2 and later: then the replicas' append-only files must hold it); when they do not
    /// confirm within <see cref="ReplicaTimeout"/>, the call fails with <see cref="ReplicationTimeoutException"/>, and a
    /// retry with the same message ids is safe. Default 0 (acknowledged once the primary has it); 0 to 100. Not on Redis
    /// Cluster. Redis only.</summary>
    public int MinReplicas { get; set; }

    /// <summary>How long a write waits for <see cref="MinReplicas"/> replicas to confirm it before it fails with
    /// <see cref="ReplicationTimeoutException"/>. Default 1 second; 1 ms to 1 minute, and shorter than
    /// <see cref="RedisOperationTimeout"/>. Redis only.</summary>
    public TimeSpan ReplicaTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Retention, in days: <see cref="SessionPersistence.CleanupAsync(CancellationToken)"/> deletes sessions with no activity for
    /// longer. Default none (keep forever). 1 to 36,500.</summary>
    public int? CleanupDays { get; set; }

    /// <summary>The most sessions the store keeps: creating one more does what <see cref="SessionLimitPolicy"/> says
    /// (by default it fails with <see cref="QuotaExceededException"/>), and cleanup deletes the least recently active
    /// beyond it. Default none. At least 1.</summary>
    public int? MaxSessions { get; set; }

    /// <summary>What creating a session beyond <see cref="MaxSessions"/> does: <see cref="Persistence.SessionLimitPolicy.Reject"/>
    /// (the default: <see cref="QuotaExceededException"/>, nothing stored) or
    /// <see cref="Persistence.SessionLimitPolicy.EvictLeastRecentlyActive"/> (the least recently active session is deleted in
    /// the same operation where the store can; log event 607 names it).</summary>
    public SessionLimitPolicy SessionLimitPolicy { get; set; } = SessionLimitPolicy.Reject;

    /// <summary>The most messages a session keeps; an append beyond it does what <see cref="MessageLimitPolicy"/> says
    /// (by default it removes the oldest beyond it, in the same atomic operation, without renumbering), and cleanup trims
    /// longer sessions to it. Default none. At least 1.</summary>
    public int? MaxMessagesPerSession { get; set; }

    /// <summary>What an append beyond <see cref="MaxMessagesPerSession"/> does: <see cref="Persistence.MessageLimitPolicy.TrimOldest"/>
    /// (the default: the oldest messages go) or <see cref="Persistence.MessageLimitPolicy.Reject"/>
    /// (<see cref="QuotaExceededException"/>, nothing stored, no stored message ever removed to make room).</summary>
    public MessageLimitPolicy MessageLimitPolicy { get; set; } = MessageLimitPolicy.TrimOldest;

    /// <summary>How often the scheduled maintenance (registered by <c>AddSessionPersistence</c>) runs
    /// <see cref="SessionPersistence.CleanupAsync(CancellationToken)"/> when <see cref="CleanupDays"/>, <see cref="MaxSessions"/> or
    /// <see cref="MaxMessagesPerSession"/> is set. Default 1 hour; 1 second to 365 days. Configuration also takes
    /// <c>"hourly"</c>, <c>"daily"</c> and <c>"weekly"</c>.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Whether the scheduled maintenance writes a backup every <see cref="BackupInterval"/> into
    /// <see cref="BackupPath"/>. Default <see langword="false"/>.</summary>
    public bool BackupEnabled { get; set; }

    /// <summary>How often a scheduled backup is written. Default 1 day; 1 second to 365 days. Configuration also takes
    /// <c>"hourly"</c>, <c>"daily"</c> and <c>"weekly"</c>. Rounds fall on multiples of the interval since the Unix
    /// epoch (UTC), so instances sharing a store agree on them.</summary>
    public TimeSpan BackupInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The folder scheduled backups go to. Default <c>{StoragePath}/backups</c> for the Json and Sqlite
    /// stores; required for Memory and Redis when <see cref="BackupEnabled"/>.</summary>
    public string? BackupPath { get; set; }

    /// <summary>How many scheduled backups are kept: after each one, the oldest beyond this number are deleted.
    /// Default 7; 1 to 10,000.</summary>
    public int BackupsToKeep { get; set; } = 7;

    /// <summary>The longest <see cref="ChatMessage.Content"/>, in UTF-16 characters. Default 1,048,576 (1 Mi).</summary>
    public int MaxContentLength { get; set; } = 1024 * 1024;

    /// <summary>The most metadata entries of one session or message. Default 64.</summary>
    public int MaxMetadataEntries { get; set; } = 64;

    /// <summary>The longest metadata value, in UTF-16 characters (keys follow the id rules). Default 16,384.</summary>
    public int MaxMetadataValueLength { get; set; } = 16 * 1024;

    /// <summary>The most participants of one session. Default 1,000.</summary>
    public int MaxParticipants { get; set; } = 1000;

    /// <summary>
    /// Whether a message's <see cref="ChatMessage.Sender"/> must be one of the session's participants: when on, an
    /// append with any other sender is refused with <see cref="ArgumentException"/> and nothing of its batch is stored.
    /// Default <see langword="false"/>. The check reads the session's participants just before the append, so a sender
    /// removed by <see cref="SessionPersistence.RemoveParticipantAsync"/> at that very moment may still get one in (with
    /// <see cref="CacheOptions.MaxStaleness"/>, one removed by another instance up to that long ago).
    /// </summary>
    public bool RequireParticipantSender { get; set; }

    /// <summary>The most messages in one <see cref="SessionPersistence.AddMessagesAsync"/> batch. Default 10,000.</summary>
    public int MaxBatchSize { get; set; } = 10_000;

    /// <summary>How long a Json store call waits for a session's lock held by another process or instance before it
    /// fails with <see cref="StoreUnavailableException"/>. Default 30 seconds; 1 ms to 1 hour.</summary>
    public TimeSpan JsonLockTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a Sqlite store call waits for another process's write lock before it fails with
    /// <see cref="StoreUnavailableException"/>. Default 30 seconds; 1 ms to 1 hour.</summary>
    public TimeSpan SqliteBusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the Redis store waits to connect, unless <see cref="ConnectionString"/> sets
    /// <c>connectTimeout</c>. Default 5 seconds; 1 ms to 10 minutes.</summary>
    public TimeSpan RedisConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one Redis command may take before it fails with <see cref="StoreUnavailableException"/>,
    /// unless <see cref="ConnectionString"/> sets <c>syncTimeout</c>/<c>asyncTimeout</c>. Default 5 seconds; 1 ms to 10 minutes.</summary>
    public TimeSpan RedisOperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Encryption at rest of content, titles and metadata values (AES-256-GCM, keys by id); off by default.
    /// See docs/security.md.</summary>
    public EncryptionOptions Encryption { get; set; } = new();

    /// <summary>Brotli compression at rest of large content, titles and metadata values; off by default.</summary>
    public CompressionOptions Compression { get; set; } = new();

    /// <summary>The read cache of hot sessions' records and latest messages, coherent across instances by a head check
    /// per read; off by default. See <see cref="CacheOptions"/>.</summary>
    public CacheOptions Cache { get; set; } = new();

    /// <summary>The clock of the stores and of retention. Default <see cref="TimeProvider.System"/>. Not bound from configuration.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The fault-injection tests' hook into the store's write path (see <see cref="Internal.FaultInjection"/>);
    /// internal, so neither configuration nor an application can set it.</summary>
    internal Internal.FaultInjection? FaultInjection { get; set; }
}

using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The store's one <see cref="ConnectionMultiplexer"/>, connected on first use: a lock-free fast path, and a
/// semaphore with a re-check on the slow one. <c>AbortOnConnectFail = false</c>, so a server that is down when the
/// application starts fails calls (as <see cref="StoreUnavailableException"/>) instead of breaking start-up, and
/// the multiplexer keeps reconnecting in the background.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions _configuration;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private ConnectionMultiplexer? _multiplexer;
    private bool _disposed;

    public RedisConnection(ConfigurationOptions configuration, ILogger logger)
    {
        _configuration = configuration;
        _logger = logger;
    }

    /// <summary>Builds the configuration from a <c>redis://[user:password@]host:port[/db]</c> URL or a StackExchange.Redis configuration string.</summary>
    public static ConfigurationOptions Configure(RedisStoreOptions store)
    {
        ConfigurationOptions options;
        var storagePath = store.Url;
        var text = store.ConnectionString;
        if (!string.IsNullOrWhiteSpace(text))
        {
            options = ConfigurationOptions.Parse(text);
        }
        else
        {
            text = storagePath;
            options = FromUrl(storagePath);
        }

        options.AbortOnConnectFail = false;
        if (!Mentions(text, "connectTimeout"))
        {
            options.ConnectTimeout = Milliseconds(store.ConnectTimeout);
        }

        if (!Mentions(text, "syncTimeout"))
        {
            options.SyncTimeout = Milliseconds(store.OperationTimeout);
        }

        if (!Mentions(text, "asyncTimeout"))
        {
            options.AsyncTimeout = Milliseconds(store.OperationTimeout);
        }

        return options;
    }

    /// <summary>The connected multiplexer (connecting it on the first call).</summary>
    public ValueTask<ConnectionMultiplexer> GetAsync(CancellationToken cancellationToken)
    {
        var multiplexer = Volatile.Read(ref _multiplexer);
        return multiplexer is not null ? ValueTask.FromResult(multiplexer) : new ValueTask<ConnectionMultiplexer>(ConnectAsync(cancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        await _connectGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_multiplexer is { } multiplexer)
            {
                _multiplexer = null;
                await multiplexer.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
                await multiplexer.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private static int Milliseconds(TimeSpan timeout) => (int)Math.Ceiling(timeout.TotalMilliseconds);

    // A setting is named by the text before '=' of one comma-separated part: "asyncTimeout=…" does not mention syncTimeout.
    private static bool Mentions(string text, string setting)
    {
        foreach (var part in text.Split(','))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && part.AsSpan(0, equals).Trim().Equals(setting, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static ConfigurationOptions FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "redis" && uri.Scheme != "rediss") || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException(
                $"StoragePath '{url}' is not a redis://host:port[/db] URL; give one, or set ConnectionString to a StackExchange.Redis configuration string.",
                nameof(url));
        }

        var options = new ConfigurationOptions { Ssl = uri.Scheme == "rediss" };
        options.EndPoints.Add(uri.Host, uri.IsDefaultPort ? 6379 : uri.Port);
        var database = uri.AbsolutePath.Trim('/');
        if (database.Length > 0)
        {
            if (!int.TryParse(database, NumberStyles.None, CultureInfo.InvariantCulture, out var db))
            {
                throw new ArgumentException($"StoragePath names database '{database}'; the database is a number, as in redis://host:6379/0.", nameof(url));
            }

            options.DefaultDatabase = db;
        }

        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            if (parts.Length == 2)
            {
                options.User = parts[0].Length > 0 ? Uri.UnescapeDataString(parts[0]) : null;
                options.Password = Uri.UnescapeDataString(parts[1]);
            }
            else
            {
                options.Password = Uri.UnescapeDataString(parts[0]);
            }
        }

        return options;
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_multiplexer is { } existing)
            {
                return existing;
            }

            var multiplexer = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
            multiplexer.ConnectionFailed += (_, e) => RedisLog.ConnectionFailed(_logger, e.FailureType, e.ConnectionType);
            multiplexer.ConnectionRestored += (_, e) => RedisLog.ConnectionRestored(_logger, e.ConnectionType);
            Volatile.Write(ref _multiplexer, multiplexer);
            return multiplexer;
        }
        finally
        {
            _connectGate.Release();
        }
    }
}

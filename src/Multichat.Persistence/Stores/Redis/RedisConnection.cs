using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Multichat.Persistence.Stores.Redis;

/// <summary>
/// The store's one <see cref="ConnectionMultiplexer"/>, connected on first use. The first connection is one shared
/// attempt that every caller waits for with its own bound: at most the connect timeout from the moment it called,
/// and its token at every point (<see cref="Task.WaitAsync(TimeSpan, CancellationToken)"/>). A caller that gives up
/// leaves the attempt running for the others; an attempt that fails is forgotten (StackExchange.Redis disposes its
/// multiplexer), so the next call starts a new one; one that succeeds after the store was disposed is disposed then.
/// The first attempt aborts on failure (<c>AbortOnConnectFail</c> for that attempt only), so its cause (a refused
/// password, an unreachable server) reaches the caller instead of a call that waits for a connection that never
/// comes; once connected, the multiplexer reconnects by itself after a lost connection, as
/// <c>AbortOnConnectFail = false</c> of the configuration says.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions _configuration;
    private readonly TimeSpan _connectTimeout;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private ConnectionMultiplexer? _multiplexer;
    private Task<ConnectionMultiplexer>? _attempt;
    private RedisConnectLog? _attemptLog;
    private bool _disposed;
    private bool _authenticationFailing;
    private int _probing;
    private int _epoch;

    public RedisConnection(ConfigurationOptions configuration, ILogger logger)
    {
        _configuration = configuration;
        _connectTimeout = TimeSpan.FromMilliseconds(Math.Max(1, configuration.ConnectTimeout));
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

        // The scripts publish the feed's hints on channels named after the key prefix (see RedisFeedHints); a channel
        // prefix would make this multiplexer subscribe to other names and hear none of them. Nothing else of the
        // store's own multiplexer uses pub/sub.
        options.ChannelPrefix = default;
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

    /// <summary>Whether the last reconnect of an established connection was refused for its authentication, and no
    /// connection was restored since.</summary>
    public bool AuthenticationFailing => Volatile.Read(ref _authenticationFailing);

    /// <summary>
    /// Changes whenever an interactive (command) connection fails or is restored. A write and the <c>WAIT</c> after it confirm
    /// each other only on one physical connection (WAIT counts the writes of its own connection), so
    /// <see cref="RedisReplicaAcknowledgement"/> refuses a confirmation when this changed in between.
    /// </summary>
    public int Epoch => Volatile.Read(ref _epoch);

    /// <summary>Raised when a connection of the multiplexer (commands or subscriptions) is restored after it failed:
    /// what was published meanwhile was not heard (see <see cref="RedisFeedHints"/>).</summary>
    public event Action<ConnectionType>? Restored;

    /// <summary>The connected multiplexer (connecting it on the first call, within the connect timeout and <paramref name="cancellationToken"/>).</summary>
    public ValueTask<ConnectionMultiplexer> GetAsync(CancellationToken cancellationToken)
    {
        var multiplexer = Volatile.Read(ref _multiplexer);
        return multiplexer is not null ? ValueTask.FromResult(multiplexer) : new ValueTask<ConnectionMultiplexer>(WaitForConnectionAsync(cancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        ConnectionMultiplexer? multiplexer;
        lock (_gate)
        {
            // An attempt still under way disposes its multiplexer itself when it ends (see ConnectOnceAsync).
            _disposed = true;
            multiplexer = _multiplexer;
            _multiplexer = null;
        }

        if (multiplexer is not null)
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
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

    private async Task<ConnectionMultiplexer> WaitForConnectionAsync(CancellationToken cancellationToken)
    {
        Task<ConnectionMultiplexer> attempt;
        RedisConnectLog log;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_multiplexer is { } existing)
            {
                return existing;
            }

            if (_attempt is null)
            {
                // Started off the lock (Task.Run), once for all callers, and not with this caller's token: a caller
                // that gives up must not abort the attempt the others wait for.
                var attemptLog = _attemptLog = new RedisConnectLog();
                _attempt = Task.Run(() => ConnectOnceAsync(attemptLog), CancellationToken.None);

                // Observed here, so an attempt that fails after every caller gave up is no unobserved task exception.
                _ = _attempt.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            attempt = _attempt;
            log = _attemptLog!;
        }

        try
        {
            var first = await Task.WhenAny(attempt, log.AuthenticationFailed).WaitAsync(_connectTimeout, cancellationToken).ConfigureAwait(false);
            if (first != attempt)
            {
                throw AuthenticationFailed(null);
            }

            return await attempt.ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (log.AuthenticationFailed.IsCompleted)
        {
            throw AuthenticationFailed(ex);
        }
        catch (TimeoutException ex)
        {
            throw new StoreUnavailableException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Redis did not accept a connection within the connect timeout ({_connectTimeout.TotalMilliseconds:0} ms); the operation did not happen. Check that the server runs and answers, and the connection settings."),
                new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No connection to Redis was made within the connect timeout.", ex));
        }
    }

    // One probe at a time, bounded by the connect timeout; its multiplexer is disposed whenever its attempt ends.
    private async Task ProbeAuthenticationAsync()
    {
        if (Interlocked.Exchange(ref _probing, 1) == 1)
        {
            return;
        }

        try
        {
            var probe = _configuration.Clone();
            probe.AbortOnConnectFail = true;
            var log = new RedisConnectLog();
            var attempt = ConnectionMultiplexer.ConnectAsync(probe, log);
            _ = attempt.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            _ = attempt.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            await Task.WhenAny(attempt, log.AuthenticationFailed, Task.Delay(_connectTimeout)).ConfigureAwait(false);
            if (log.AuthenticationFailed.IsCompleted && Volatile.Read(ref _multiplexer) is { IsConnected: false } or null)
            {
                Volatile.Write(ref _authenticationFailing, true);
            }
        }
        catch (Exception ex) when (ex is RedisException or InvalidOperationException or ArgumentException)
        {
            // A probe that cannot even start says nothing about the authentication.
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }

    private static StoreUnavailableException AuthenticationFailed(Exception? inner) =>
        new(RedisErrors.AuthenticationFailedMessage, new RedisConnectionException(ConnectionFailureType.AuthenticationFailure, "Redis refused the authentication while connecting.", inner));

    private async Task<ConnectionMultiplexer> ConnectOnceAsync(RedisConnectLog log)
    {
        ConnectionMultiplexer multiplexer;
        try
        {
            var first = _configuration.Clone();
            first.AbortOnConnectFail = true;
            multiplexer = await ConnectionMultiplexer.ConnectAsync(first, log).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                _attempt = null;
                _attemptLog = null;
            }

            throw;
        }

        multiplexer.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                Interlocked.Increment(ref _epoch);
            }

            // A reconnect the server refuses (its password or ACL changed while connected) shows nowhere in the
            // failures of the calls that find no connection meanwhile ("no connection became available"), so a lost
            // connection is probed once with a connection of its own, whose log says whether the authentication
            // was refused; until a connection is restored, calls then say so instead of "cannot be reached".
            if (e.FailureType == ConnectionFailureType.AuthenticationFailure)
            {
                Volatile.Write(ref _authenticationFailing, true);
            }
            else if (e.ConnectionType == ConnectionType.Interactive)
            {
                _ = ProbeAuthenticationAsync();
            }

            RedisLog.ConnectionFailed(_logger, e.FailureType, e.ConnectionType);
        };
        multiplexer.ErrorMessage += (_, e) =>
        {
            if (e.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || e.Message.StartsWith("WRONGPASS", StringComparison.Ordinal))
            {
                Volatile.Write(ref _authenticationFailing, true);
            }
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                Interlocked.Increment(ref _epoch);
            }

            Volatile.Write(ref _authenticationFailing, false);
            RedisLog.ConnectionRestored(_logger, e.ConnectionType);
            Restored?.Invoke(e.ConnectionType);
        };
        bool disposed;
        lock (_gate)
        {
            _attempt = null;
            _attemptLog = null;
            disposed = _disposed;
            if (!disposed)
            {
                Volatile.Write(ref _multiplexer, multiplexer);
            }
        }

        if (disposed)
        {
            await multiplexer.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(RedisConnection));
        }

        return multiplexer;
    }
}

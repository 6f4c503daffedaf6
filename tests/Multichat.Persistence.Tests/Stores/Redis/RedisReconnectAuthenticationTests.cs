using System.Diagnostics;
using FluentAssertions;
using StackExchange.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>
/// Credentials that stop working while the store is connected (the password or the ACL user changed on the running
/// server, then the connection drops and the reconnect is refused): calls say the authentication failed, not that
/// Redis cannot be reached, as the first connection does (see <see cref="RedisFirstConnectionTests"/>).
/// </summary>
public sealed class RedisReconnectAuthenticationTests : IAsyncLifetime
{
    private RedisServerProcess? _server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RedisServerProcess Server => _server!;

    public async ValueTask InitializeAsync()
    {
        RedisFixture.RequireAvailable(RedisServerProcess.Executable is null ? "redis-server is not installed; these tests change a private server's password." : null);
        _server = await RedisServerProcess.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("CONFIG SET requirepass")]
    [InlineData("ACL SETUSER")]
    public async Task AnyCall_PasswordChangedWhileConnected_ThrowsStoreUnavailableSayingAuthenticationFailed(string change)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{Server.EndPoint},allowAdmin=true");
        var credentials = string.Empty;
        if (change == "ACL SETUSER")
        {
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", "app", "on", ">old-password", "~*", "&*", "+@all");

            // Without this a refused user falls back to the default user, which needs no password.
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", "default", "resetpass", ">admin-password");
            credentials = ",user=app,password=old-password";
        }

        await using var store = SessionPersistence.Create(new SessionPersistenceOptions
        {
            StorageType = StorageType.Redis,
            ConnectionString = $"{Server.EndPoint},connectTimeout=2000,asyncTimeout=1000,syncTimeout=1000{credentials}",
        });
        await store.CreateSessionAsync("s-1", ["a"], cancellationToken: Ct);

        if (change == "ACL SETUSER")
        {
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", "app", "resetpass", ">new-password");
        }
        else
        {
            await admin.GetDatabase().ExecuteAsync("CONFIG", "SET", "requirepass", "new-password");
        }

        // The admin connection stays (SKIPME yes); the store's connections drop and reconnect with the old password.
        await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "normal");

        var messages = new List<string>();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20) && !(messages.Count > 0 && Says(messages[^1])))
        {
            try
            {
                await store.AddMessageAsync(new ChatMessage { Id = $"m-{messages.Count}", SessionId = "s-1", Sender = "a", Content = "x" }, Ct);
                messages.Add("ok");
            }
            catch (StoreUnavailableException ex)
            {
                messages.Add(ex.Message);
            }

            await Task.Delay(100, Ct);
        }

        messages[^1].Should().ContainEquivalentOf("authentication", "the reconnect was refused for its password: {0}", string.Join(" | ", messages));
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the refusal is found within a connect timeout or two of the drop");
        var again = () => store.GetSessionAsync("s-1", Ct);
        (await again.Should().ThrowAsync<StoreUnavailableException>()).Which.Message.Should()
            .ContainEquivalentOf("authentication").And.NotContainEquivalentOf("cannot be reached", "every call while the password is refused says so");
    }

    private static bool Says(string message) => message.Contains("authentication", StringComparison.OrdinalIgnoreCase);
}

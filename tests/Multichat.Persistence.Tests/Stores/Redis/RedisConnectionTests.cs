using FluentAssertions;
using Multichat.Persistence.Pipeline;
using Multichat.Persistence.Stores.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>How the store's options become the StackExchange.Redis configuration; no server needed.</summary>
public sealed class RedisConnectionTests
{
    private static readonly TimeSpan Connect = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan Operation = TimeSpan.FromMilliseconds(2500);

    [Theory]
    [InlineData(null, "redis://127.0.0.1:6390")]
    [InlineData("127.0.0.1:6390", "ignored")]
    [InlineData("127.0.0.1:6390,password=secret,abortConnect=true", "ignored")]
    public void Configure_NoTimeoutsInTheConnectionString_AppliesTheOptionsTimeouts(string? connectionString, string url)
    {
        var configuration = RedisConnection.Configure(StoreFactory.RedisOptions(new SessionPersistenceOptions
        {
            ConnectionString = connectionString,
            StoragePath = url,
            RedisConnectTimeout = Connect,
            RedisOperationTimeout = Operation,
        }));

        configuration.ConnectTimeout.Should().Be(1500);
        configuration.SyncTimeout.Should().Be(2500);
        configuration.AsyncTimeout.Should().Be(2500);
        configuration.AbortOnConnectFail.Should().BeFalse();
    }

    [Fact]
    public void Configure_ConnectionStringSetsOnlyAsyncTimeout_AppliesTheOptionsToTheOthers()
    {
        var configuration = RedisConnection.Configure(StoreFactory.RedisOptions(new SessionPersistenceOptions
        {
            ConnectionString = "127.0.0.1:6390,asyncTimeout=250",
            RedisConnectTimeout = Connect,
            RedisOperationTimeout = Operation,
        }));

        configuration.AsyncTimeout.Should().Be(250);
        configuration.SyncTimeout.Should().Be(2500, "asyncTimeout does not name syncTimeout");
        configuration.ConnectTimeout.Should().Be(1500);
    }

    [Fact]
    public void Configure_ConnectionStringSetsEveryTimeout_KeepsThem()
    {
        var configuration = RedisConnection.Configure(StoreFactory.RedisOptions(new SessionPersistenceOptions
        {
            ConnectionString = "127.0.0.1:6390,connectTimeout=100,syncTimeout=200,asyncTimeout=300",
            RedisConnectTimeout = Connect,
            RedisOperationTimeout = Operation,
        }));

        (configuration.ConnectTimeout, configuration.SyncTimeout, configuration.AsyncTimeout).Should().Be((100, 200, 300));
    }

    [Fact]
    public void Configure_SentinelConnectionString_KeepsTheServiceNameAndTheSentinels()
    {
        var configuration = RedisConnection.Configure(StoreFactory.RedisOptions(new SessionPersistenceOptions
        {
            ConnectionString = "127.0.0.1:26379,127.0.0.1:26380,serviceName=multichat",
        }));

        configuration.ServiceName.Should().Be("multichat");
        configuration.EndPoints.Select(e => e.ToString()).Should().Equal("127.0.0.1:26379", "127.0.0.1:26380");
    }
}

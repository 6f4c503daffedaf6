using FluentAssertions;
using Multichat.Persistence.Stores.Redis;

namespace Multichat.Persistence.Tests.Stores.Redis;

/// <summary>Which wait a primary gets by its version; no server needed (the servers here are Redis 7.0, whose WAIT the replication tests see).</summary>
public sealed class RedisReplicaAcknowledgementTests
{
    [Theory]
    [InlineData("6.2.14", "WAIT")]
    [InlineData("7.0.15", "WAIT")]
    [InlineData("7.1.0", "WAIT")]
    [InlineData("7.2.0", "WAITAOF")]
    [InlineData("7.4.2", "WAITAOF")]
    [InlineData("8.0.0", "WAITAOF")]
    public void CommandFor_PrimaryVersion_IsWaitAofFrom72On(string version, string expected) =>
        RedisReplicaAcknowledgement.CommandFor(Version.Parse(version)).Should().Be(expected);

    [Fact]
    public void CommandFor_UnknownVersion_IsWait() => RedisReplicaAcknowledgement.CommandFor(null).Should().Be("WAIT");
}

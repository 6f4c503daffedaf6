using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Samples;

/// <summary>The demo a newcomer runs first: a clear line and a non-zero exit for every mistake, never a stack trace.</summary>
public sealed class DemoTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-demo-tests", Guid.NewGuid().ToString("N")[..12]);

    public DemoTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Demo_Default_RunsTheConversationOnJson()
    {
        var (code, output, error) = await RunAsync();

        code.Should().Be(0, error);
        output.Should().Contain("Store: Json").And.Contain("5 messages");
        Directory.Exists(Path.Combine(_folder, "demo-sessions")).Should().BeTrue();
    }

    [Fact]
    public async Task Demo_Feed_TwoAgentsInTwoProcessesTalkThroughTheChangeFeed()
    {
        var (code, output, error) = await RunAsync("feed");

        code.Should().Be(0, error);
        output.Should().Contain("#2 Answerer -> Asker").And.Contain("#6 Answerer -> Asker")
            .And.Contain("Asker has read up to #7, 0 unread").And.Contain("Answerer has read up to #7, 0 unread");
    }

    [Fact]
    public async Task Demo_FeedOnMemory_PrintsOneLineAndExitsWithTwo()
    {
        var (code, _, error) = await RunAsync("feed", "--store", "Memory");

        code.Should().Be(2);
        error.Should().Contain("needs a store they share");
    }

    [Theory]
    [InlineData("--store", "Foo")]
    [InlineData("--store", "42")]
    [InlineData("--store")]
    [InlineData("--path")]
    [InlineData("--colour", "blue")]
    [InlineData("--store", "Redis")]
    public async Task Demo_BadArguments_PrintsOneLineAndExitsWithTwo(params string[] arguments)
    {
        var (code, output, error) = await RunAsync(arguments);

        code.Should().Be(2);
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("Usage");
        output.Should().BeEmpty();
    }

    [Fact]
    public async Task Demo_RedisDown_PrintsOneLineAndExitsWithOne()
    {
        // A port that nothing listens on: bound, read, released.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (code, _, error) = await RunAsync("--store", "Redis", "--path", $"redis://127.0.0.1:{port}");

        code.Should().Be(1);
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("could not use the Redis store");
        error.Should().NotContain("   at ");
    }

    private Task<(int Code, string Output, string Error)> RunAsync(params string[] arguments) =>
        SampleProcess.RunAsync("DemoDll", _folder, arguments);
}

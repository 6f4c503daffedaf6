using FluentAssertions;
using Multichat.Persistence.Tests.Infrastructure;

namespace Multichat.Persistence.Tests.Samples;

/// <summary>The Agent Framework sample: three agents in one shared session, stopped, restarted, continuing.</summary>
public sealed class AgentDemoTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "multichat-agent-demo-tests", Guid.NewGuid().ToString("N")[..12]);

    public AgentDemoTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("Json")]
    [InlineData("Sqlite")]
    public async Task AgentDemo_RunTwice_TheAgentsContinueTheSameSessionAfterEachRestart(string store)
    {
        var first = await SampleProcess.RunAsync("AgentDemoDll", _folder, "--store", store);
        var second = await SampleProcess.RunAsync("AgentDemoDll", _folder, "--store", store);

        first.Code.Should().Be(0, first.Error);
        first.Output.Should().Contain("life 1: a new conversation")
            .And.Contain("life 2: continuing 'agent-demo-room' (6 messages stored, participants planner, researcher, writer)")
            .And.Contain("#6 writer: writer: replying to researcher (I can see 5 messages).")
            .And.Contain("#12 writer: writer: replying to researcher (I can see 11 messages).");
        second.Code.Should().Be(0, second.Error);
        second.Output.Should().Contain("life 1: continuing 'agent-demo-room' (12 messages stored")
            .And.Contain("#18 writer: writer: replying to researcher (I can see 17 messages).")
            .And.Contain("now holds 24 messages");
    }

    [Fact]
    public async Task AgentDemo_OnMemory_PrintsOneLineAndExitsWithTwo()
    {
        var (code, output, error) = await SampleProcess.RunAsync("AgentDemoDll", _folder, "--store", "Memory");

        code.Should().Be(2);
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("needs one that keeps data");
        output.Should().BeEmpty();
    }
}

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Multichat.Persistence.Tests.AgentFramework;

/// <summary>A content type of the application's own, registered with <see cref="AIJsonUtilities"/> so it is stored too.</summary>
public sealed class CitationContent : AIContent
{
    public string Source { get; set; } = "";

    public string? Quote { get; set; }

    /// <summary>The default options with this type registered under the discriminator <c>citation</c>.</summary>
    public static JsonSerializerOptions Options()
    {
        var options = new JsonSerializerOptions(AIJsonUtilities.DefaultOptions);
        options.TypeInfoResolverChain.Add(new DefaultJsonTypeInfoResolver());
        options.AddAIContentType<CitationContent>("citation");
        options.MakeReadOnly();
        return options;
    }
}

using System.Collections.ObjectModel;

namespace Multichat.Persistence;

/// <summary>The one shared empty metadata dictionary, so default records allocate nothing.</summary>
internal static class EmptyMetadata
{
    public static readonly IReadOnlyDictionary<string, string> Instance = ReadOnlyDictionary<string, string>.Empty;
}

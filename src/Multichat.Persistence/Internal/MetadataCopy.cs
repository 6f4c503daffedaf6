namespace Multichat.Persistence.Internal;

/// <summary>Stores keep their own copy of metadata: the caller may change the dictionary it passed in afterwards.</summary>
internal static class MetadataCopy
{
    public static IReadOnlyDictionary<string, string> Of(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Count == 0 ? EmptyMetadata.Instance : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
}

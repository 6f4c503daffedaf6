namespace Multichat.Persistence.Protection;

/// <summary>Which kind of value an envelope holds; part of its associated data, so a value moved to another kind of
/// field fails to decrypt. The numbers are stored (inside the authenticated data): never renumber them.</summary>
internal enum ProtectedField : byte
{
    MessageContent = 1,
    MessageMetadata = 2,
    SessionTitle = 3,
    SessionMetadata = 4,
}

using Multichat.Persistence.Internal;

namespace Multichat.Persistence.Stores.Json;

/// <summary>What the Json store needs to open, built from <see cref="SessionPersistenceOptions"/> in the one composition place.</summary>
/// <param name="RootPath">The store's folder (made absolute by the store).</param>
/// <param name="Durability">Whether an acknowledged write is fsynced.</param>
/// <param name="LockTimeout">How long a call waits for a session's lock held by another process or instance.</param>
/// <param name="TimeProvider">The store clock.</param>
/// <param name="Faults">The fault-injection tests' hook; null outside them.</param>
/// <param name="FilePermissions">The Unix mode of the folders and files the store creates.</param>
internal sealed record JsonStoreOptions(
    string RootPath,
    Durability Durability,
    TimeSpan LockTimeout,
    TimeProvider TimeProvider,
    FaultInjection? Faults = null,
    FilePermissions FilePermissions = FilePermissions.OwnerOnly);

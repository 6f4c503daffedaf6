using System.Runtime.CompilerServices;
using Multichat.Persistence.Backup;
using Multichat.Persistence.Pipeline;

namespace Multichat.Persistence.Protection;

/// <summary>
/// The protection layer, innermost of the pipeline: seals message content, message metadata values, session titles and
/// session metadata values on the way to the store (Brotli above <see cref="CompressionOptions.MinSize"/>, then
/// AES-256-GCM under the ring's current key) and opens them on the way back, so no store knows of it. It is always in
/// the chain: with nothing configured it only keeps plain text that looks like an envelope apart (and reads envelopes
/// a backup brought in), at the cost of one prefix check per value.
/// </summary>
/// <remarks>
/// A read that meets a value it cannot open (missing or wrong key, tampered or moved envelope) fails as a whole with
/// <see cref="DecryptionFailedException"/> naming the session, the message and the key id: a page is never returned
/// with a hole or with ciphertext in it. The other messages stay readable through pages that leave that message out.
/// Imports and restores keep envelopes the ring opens as they are (no re-encryption needed to migrate), verify them
/// on the way in, and seal plain values under the current settings.
/// </remarks>
internal sealed class ProtectingSessionStore(ISessionStore inner, IEncryptionKeyProvider? keys, int compressAtLeast, int maxPlainBytes, bool ownsKeys)
    : DelegatingSessionStore(inner)
{
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        if (ownsKeys && keys is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    public override async Task<ChatSession> CreateSessionAsync(ChatSession session, SessionLimit limit, CancellationToken cancellationToken = default)
    {
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        var stored = await Inner.CreateSessionAsync(Seal(session, ring), limit, cancellationToken).ConfigureAwait(false);
        return Open(stored, ring);
    }

    public override async Task<ChatSession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var stored = await Inner.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return stored is null ? null : Open(stored, await RingAsync(cancellationToken).ConfigureAwait(false));
    }

    public override async Task<ChatSession> UpdateSessionAsync(ChatSession session, CancellationToken cancellationToken = default)
    {
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        var stored = await Inner.UpdateSessionAsync(Seal(session, ring), cancellationToken).ConfigureAwait(false);
        return Open(stored, ring);
    }

    public override async Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken = default)
    {
        var page = await Inner.ListSessionsAsync(query, cancellationToken).ConfigureAwait(false);
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        ChatSession[]? opened = null;
        for (var i = 0; i < page.Sessions.Count; i++)
        {
            var session = page.Sessions[i];
            var open = Open(session, ring);
            if (!ReferenceEquals(open, session))
            {
                opened ??= [.. page.Sessions];
                opened[i] = open;
            }
        }

        return opened is null ? page : new SessionPage(opened, page.ContinuationToken);
    }

    public override async Task<IReadOnlyList<ChatMessage>> AppendMessagesAsync(
        string sessionId, IReadOnlyList<ChatMessage> messages, MessageLimit limit, CancellationToken cancellationToken = default)
    {
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        var sealedBatch = SealAll(messages, ring);
        var stored = await Inner.AppendMessagesAsync(sessionId, sealedBatch, limit, cancellationToken).ConfigureAwait(false);

        // A new message comes back as it was sent (its sealed form): hand back the caller's plain text with the
        // store's sequence and timestamp, without decrypting what was just encrypted. A retried id comes back as the
        // stored original, which is opened.
        var nothingSealed = ReferenceEquals(sealedBatch, messages);
        ChatMessage[]? opened = null;
        for (var i = 0; i < stored.Count; i++)
        {
            var message = stored[i];
            var open = !nothingSealed && SameSealed(message, sealedBatch, i)
                ? message with { Content = messages[i].Content, Metadata = messages[i].Metadata }
                : Open(message, ring);
            if (!ReferenceEquals(open, message))
            {
                opened ??= [.. stored];
                opened[i] = open;
            }
        }

        return opened ?? stored;
    }

    public override async Task<MessagePage> GetMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken = default)
    {
        var page = await Inner.GetMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false);
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        ChatMessage[]? opened = null;
        for (var i = 0; i < page.Messages.Count; i++)
        {
            var message = page.Messages[i];
            var open = Open(message, ring);
            if (!ReferenceEquals(open, message))
            {
                opened ??= [.. page.Messages];
                opened[i] = open;
            }
        }

        return opened is null ? page : new MessagePage(opened, page.Next);
    }

    public override async Task ImportSessionAsync(ChatSession session, bool replaceExisting, CancellationToken cancellationToken = default)
    {
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        await Inner.ImportSessionAsync(Reseal(session, ring), replaceExisting, cancellationToken).ConfigureAwait(false);
    }

    public override async Task ImportMessagesAsync(string sessionId, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken = default)
    {
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        await Inner.ImportMessagesAsync(sessionId, ResealAll(messages, ring), cancellationToken).ConfigureAwait(false);
    }

    public override async Task ReplaceSessionAsync(
        ChatSession session, IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, ReplacementExpectation? expected, CancellationToken cancellationToken)
    {
        var ring = await RingAsync(cancellationToken).ConfigureAwait(false);
        await base.ReplaceSessionAsync(Reseal(session, ring), Resealed(batches, ring, cancellationToken), expected, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored form of a value: what a backup or an export carries.</summary>
    internal string SealValue(string plain, in ValueLocation where, EncryptionKeyRing? ring) => ValueEnvelope.Seal(plain, where, ring, compressAtLeast);

    /// <summary>The plain form of a stored value.</summary>
    internal string OpenValue(string stored, in ValueLocation where, EncryptionKeyRing? ring) => ValueEnvelope.Open(stored, where, ring, maxPlainBytes);

    /// <summary>The ring to use now; <see langword="null"/> when encryption is off.</summary>
    internal async ValueTask<EncryptionKeyRing?> RingAsync(CancellationToken cancellationToken) =>
        keys is null ? null : await keys.GetKeyRingAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The value as it should be stored on the way in from an archive or another store: an envelope that opens stays as
    /// it is when it is encrypted under a key of the ring (or when encryption is off); anything else is sealed anew.
    /// </summary>
    internal string ResealValue(string stored, in ValueLocation where, EncryptionKeyRing? ring)
    {
        if (!ValueEnvelope.IsEnvelope(stored))
        {
            return SealValue(stored, where, ring);
        }

        var plain = OpenValue(stored, where, ring);
        var encryptedUnderRing = ValueEnvelope.KeyIdOf(stored) is not null;
        return encryptedUnderRing == (ring is not null) ? stored : SealValue(plain, where, ring);
    }

    /// <summary>A message or session as re-encryption rewrites it: every value opened (which verifies it, whatever its
    /// key) and, unless already under the ring's current key, sealed under it.</summary>
    /// <exception cref="DecryptionFailedException">No key of the ring opens a value.</exception>
    internal ChatMessage Rotate(ChatMessage message, EncryptionKeyRing ring) =>
        TransformMessage(message, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.RotateValue(value, where, ring));

    /// <inheritdoc cref="Rotate(ChatMessage, EncryptionKeyRing)"/>
    internal ChatSession Rotate(ChatSession session, EncryptionKeyRing ring) =>
        TransformSession(session, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.RotateValue(value, where, ring));

    /// <summary>Whether the value is stored as the current settings would store it now (for re-encryption).</summary>
    internal static bool IsCurrent(string stored, EncryptionKeyRing? ring) =>
        ring is null ? ValueEnvelope.KeyIdOf(stored) is null : ValueEnvelope.KeyIdOf(stored) == ring.CurrentKeyId;

    private string RotateValue(string stored, in ValueLocation where, EncryptionKeyRing? ring)
    {
        var plain = OpenValue(stored, where, ring);
        return IsCurrent(stored, ring) ? stored : SealValue(plain, where, ring);
    }

    private static bool SameSealed(ChatMessage stored, IReadOnlyList<ChatMessage> sealedBatch, int index) =>
        index < sealedBatch.Count
        && string.Equals(stored.Id, sealedBatch[index].Id, StringComparison.Ordinal)
        && string.Equals(stored.Content, sealedBatch[index].Content, StringComparison.Ordinal)
        && SameValues(stored.Metadata, sealedBatch[index].Metadata);

    private static bool SameValues(IReadOnlyDictionary<string, string> left, IReadOnlyDictionary<string, string> right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        foreach (var (key, value) in left)
        {
            if (!right.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private IReadOnlyList<ChatMessage> SealAll(IReadOnlyList<ChatMessage> messages, EncryptionKeyRing? ring)
    {
        ChatMessage[]? sealedBatch = null;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var sealedMessage = Seal(message, ring);
            if (!ReferenceEquals(sealedMessage, message))
            {
                sealedBatch ??= [.. messages];
                sealedBatch[i] = sealedMessage;
            }
        }

        return sealedBatch ?? messages;
    }

    private ChatMessage[] ResealAll(IReadOnlyList<ChatMessage> messages, EncryptionKeyRing? ring)
    {
        var resealed = new ChatMessage[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            resealed[i] = Reseal(messages[i], ring);
        }

        return resealed;
    }

    private async IAsyncEnumerable<IReadOnlyList<ChatMessage>> Resealed(
        IAsyncEnumerable<IReadOnlyList<ChatMessage>> batches, EncryptionKeyRing? ring, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in batches.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return ResealAll(batch, ring);
        }
    }

    private ChatMessage Seal(ChatMessage message, EncryptionKeyRing? ring) =>
        TransformMessage(message, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.SealValue(value, where, ring));

    private ChatMessage Open(ChatMessage message, EncryptionKeyRing? ring) =>
        TransformMessage(message, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.OpenValue(value, where, ring));

    private ChatMessage Reseal(ChatMessage message, EncryptionKeyRing? ring) =>
        TransformMessage(message, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.ResealValue(value, where, ring));

    private ChatSession Seal(ChatSession session, EncryptionKeyRing? ring) =>
        TransformSession(session, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.SealValue(value, where, ring));

    private ChatSession Open(ChatSession session, EncryptionKeyRing? ring) =>
        TransformSession(session, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.OpenValue(value, where, ring));

    private ChatSession Reseal(ChatSession session, EncryptionKeyRing? ring) =>
        TransformSession(session, ring, static (ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring) => self.ResealValue(value, where, ring));

    private delegate string ValueTransform(ProtectingSessionStore self, string value, in ValueLocation where, EncryptionKeyRing? ring);

    private ChatMessage TransformMessage(ChatMessage message, EncryptionKeyRing? ring, ValueTransform transform)
    {
        var content = transform(this, message.Content, ValueLocation.Content(message.SessionId, message.Id), ring);
        var metadata = TransformMetadata(message.Metadata, ProtectedField.MessageMetadata, message.SessionId, message.Id, ring, transform);
        return ReferenceEquals(content, message.Content) && ReferenceEquals(metadata, message.Metadata)
            ? message
            : message with { Content = content, Metadata = metadata };
    }

    private ChatSession TransformSession(ChatSession session, EncryptionKeyRing? ring, ValueTransform transform)
    {
        var title = session.Title is null ? null : transform(this, session.Title, ValueLocation.Title(session.SessionId), ring);
        var metadata = TransformMetadata(session.Metadata, ProtectedField.SessionMetadata, session.SessionId, null, ring, transform);
        return ReferenceEquals(title, session.Title) && ReferenceEquals(metadata, session.Metadata)
            ? session
            : session with { Title = title, Metadata = metadata };
    }

    private IReadOnlyDictionary<string, string> TransformMetadata(
        IReadOnlyDictionary<string, string> metadata, ProtectedField field, string sessionId, string? messageId, EncryptionKeyRing? ring, ValueTransform transform)
    {
        if (metadata.Count == 0)
        {
            return metadata;
        }

        Dictionary<string, string>? changed = null;
        foreach (var (key, value) in metadata)
        {
            var next = transform(this, value, new ValueLocation(field, sessionId, messageId, key), ring);
            if (!ReferenceEquals(next, value) && changed is null)
            {
                changed = new Dictionary<string, string>(metadata.Count, StringComparer.Ordinal);
                foreach (var (earlierKey, earlierValue) in metadata)
                {
                    if (string.Equals(earlierKey, key, StringComparison.Ordinal))
                    {
                        break;
                    }

                    changed[earlierKey] = earlierValue;
                }
            }

            if (changed is not null)
            {
                changed[key] = next;
            }
        }

        return changed ?? metadata;
    }
}

using System.Globalization;
using System.Text;

namespace Multichat.Persistence.Internal;

/// <summary>
/// The keyset position behind a <see cref="SessionPage.ContinuationToken"/>: the (UpdatedAt, SessionId) of the last
/// session of the page. Sessions sort by UpdatedAt descending, then SessionId descending by code point (<see cref="CodePointOrder"/>), so the next page
/// starts strictly after this position and paging never skips or repeats a session that did not change meanwhile.
/// </summary>
internal readonly record struct SessionCursor(long UpdatedAtUtcTicks, string SessionId)
{
    private const string Version = "s1";

    public static SessionCursor After(ChatSession session) => new(session.UpdatedAt.UtcTicks, session.SessionId);

    /// <summary>Whether <paramref name="session"/> sorts after this position (belongs to a later page).</summary>
    public bool Precedes(ChatSession session) => Precedes(session.UpdatedAt.UtcTicks, session.SessionId);

    public bool Precedes(long updatedAtUtcTicks, string sessionId) =>
        updatedAtUtcTicks < UpdatedAtUtcTicks
        || (updatedAtUtcTicks == UpdatedAtUtcTicks && CodePointOrder.Compare(sessionId, SessionId) < 0);

    public string Encode()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{Version}|{UpdatedAtUtcTicks}|{SessionId}");
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static SessionCursor? Decode(string? token, string paramName)
    {
        if (token is null)
        {
            return null;
        }

        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - (base64.Length % 4)) % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            var parts = text.Split('|', 3);
            if (parts.Length == 3 && parts[0] == Version
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
            {
                return new SessionCursor(ticks, parts[2]);
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException(
            "The continuation token is not one this library issued; pass SessionPage.ContinuationToken unchanged, or null for the first page.",
            paramName);
    }

    /// <summary>Sorts newest activity first, ties by id descending: the order of <see cref="SessionPage"/>.</summary>
    public static int CompareForListing(ChatSession x, ChatSession y)
    {
        var byTime = y.UpdatedAt.UtcTicks.CompareTo(x.UpdatedAt.UtcTicks);
        return byTime != 0 ? byTime : CodePointOrder.Compare(y.SessionId, x.SessionId);
    }
}

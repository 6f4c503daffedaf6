namespace Multichat.Persistence.Internal;

/// <summary>
/// Compares strings by Unicode code point, the order of their UTF-8 bytes: the order SQLite's BINARY collation and
/// Redis use natively, so every store breaks listing ties alike. Ordinal UTF-16 comparison differs for characters
/// above U+FFFF (stored as surrogates, U+D800–U+DFFF), which it sorts below U+E000–U+FFFF.
/// </summary>
internal static class CodePointOrder
{
    public static int Compare(string x, string y)
    {
        var common = x.AsSpan().CommonPrefixLength(y);
        if (common == x.Length || common == y.Length)
        {
            return x.Length.CompareTo(y.Length);
        }

        return Rank(x[common]).CompareTo(Rank(y[common]));
    }

    // Moves surrogates above U+E000–U+FFFF; in well-formed text the first unequal unit decides the code point order.
    private static int Rank(char c) => c < '\uD800' ? c : c < '\uE000' ? c + 0x2000 : c - 0x800;
}

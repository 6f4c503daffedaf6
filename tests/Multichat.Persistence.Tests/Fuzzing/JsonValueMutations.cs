using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Multichat.Persistence.Tests.Fuzzing;

/// <summary>
/// Damage that keeps a JSON document parseable, so it reaches the checks behind the parser: one value (anywhere in
/// the tree) replaced by a value of another type, a null, a huge or negative number, an extreme date, a lone surrogate,
/// a long string, deep nesting; a property removed or duplicated; an array element duplicated.
/// </summary>
internal static class JsonValueMutations
{
    private const string Placeholder = "@@fuzz-placeholder@@";

    /// <summary>Replacement values, as JSON text.</summary>
    private static readonly string[] Values =
    [
        "null", "true", "false", "0", "-1", "1", "1.5", "-0", "1e308", "-1e308", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "9007199254740991", "9007199254740992", "4611686018427387904", "2147483648", "99999999999999999999999",
        "\"\"", "\"x\"", "\"7\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\u001f\"", "\"..\\/x\"", "\"s-other\"", "\"a/b\"",
        "\"0001-01-01T00:00:00+14:00\"", "\"9999-12-31T23:59:59-14:00\"", "\"2026-02-30T00:00:00Z\"", "\"2026-01-01T25:00:00Z\"",
        "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59.9999999Z\"", "\"not a date\"", "[]", "{}", "[null]", "[1]", "[\"a\",\"a\"]",
        "{\"k\":null}", "{\"k\":1}", "{\"k\":{}}", "{\"\":\"v\"}", "{\"\\u0001\":\"v\"}",
    ];

    /// <summary>
    /// One value-level mutation of <paramref name="json"/> (a UTF-8 JSON document), or null when it does not parse.
    /// </summary>
    public static byte[]? Mutate(ReadOnlySpan<byte> json, Random random, out string what)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            what = "not JSON";
            return null;
        }

        var slots = new List<(JsonNode Parent, string? Key, int Index, string Path)>();
        Collect(root, "$", slots);
        if (slots.Count == 0)
        {
            what = "no value to change";
            return null;
        }

        var (parent, key, index, path) = slots[random.Next(slots.Count)];
        string raw;
        switch (random.Next(10))
        {
            case 0 when key is not null:
                parent.AsObject().Remove(key);
                what = $"remove {path}";
                return Encoding.UTF8.GetBytes(root!.ToJsonString());
            case 1 when key is not null:
                // Duplicate property: JsonNode cannot hold one, so it is written by hand in front of the original.
                var duplicate = Values[random.Next(Values.Length)];
                var text = root!.ToJsonString();
                var marker = JsonSerializer.Serialize(key) + ":";
                var at = text.IndexOf(marker, StringComparison.Ordinal);
                what = $"duplicate {path} as {Shorten(duplicate)}";
                return Encoding.UTF8.GetBytes(at < 0 ? text : text.Insert(at, marker + duplicate + ","));
            case 2 when key is null:
                parent.AsArray().Insert(index, parent.AsArray()[index]?.DeepClone());
                what = $"duplicate {path}";
                return Encoding.UTF8.GetBytes(root!.ToJsonString());
            case 3:
                var depth = random.Next(2) == 0 ? 65 : 5_000;
                raw = string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth));
                what = $"{path} nested {depth} deep";
                break;
            case 4:
                raw = JsonSerializer.Serialize(new string('x', random.Next(2) == 0 ? 4_097 : 300_000));
                what = $"{path} a long string";
                break;
            default:
                raw = Values[random.Next(Values.Length)];
                what = $"{path} = {raw}";
                break;
        }

        Set(parent, key, index, JsonValue.Create(Placeholder));
        var written = root!.ToJsonString();
        return Encoding.UTF8.GetBytes(written.Replace(JsonSerializer.Serialize(Placeholder), raw, StringComparison.Ordinal));
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static void Set(JsonNode parent, string? key, int index, JsonNode? value)
    {
        if (key is not null)
        {
            parent.AsObject()[key] = value;
        }
        else
        {
            parent.AsArray()[index] = value;
        }
    }

    private static void Collect(JsonNode? node, string path, List<(JsonNode, string?, int, string)> slots)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    slots.Add((obj, key, -1, $"{path}.{key}"));
                    Collect(child, $"{path}.{key}", slots);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    slots.Add((array, null, i, $"{path}[{i}]"));
                    Collect(array[i], $"{path}[{i}]", slots);
                }

                break;
        }
    }
}

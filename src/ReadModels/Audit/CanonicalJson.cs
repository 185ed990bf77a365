using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// One text for one JSON value, however it was written: object keys sorted, no whitespace, numbers by their value.
/// PostgreSQL's jsonb reorders keys and rewrites numbers, so the hash is taken over this form, on both sides.
/// </summary>
public static class CanonicalJson
{
    public static string Of(string json)
    {
        var builder = new StringBuilder(json.Length);
        Write(JsonNode.Parse(json), builder);
        return builder.ToString();
    }

    static void Write(JsonNode? node, StringBuilder builder)
    {
        switch (node)
        {
            case null:
                builder.Append("null");
                break;
            case JsonObject obj:
                builder.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first)
                        builder.Append(',');
                    first = false;
                    builder.Append(JsonValue.Create(key).ToJsonString()).Append(':');
                    Write(value, builder);
                }
                builder.Append('}');
                break;
            case JsonArray array:
                builder.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                        builder.Append(',');
                    Write(array[i], builder);
                }
                builder.Append(']');
                break;
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.Number:
                builder.Append(value.GetValue<double>().ToString("R", CultureInfo.InvariantCulture));
                break;
            default:
                builder.Append(node.ToJsonString());
                break;
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// RFC 8785, the JSON Canonicalization Scheme: object members sorted by their names' UTF-16 code units, no whitespace,
/// numbers as ECMAScript writes a double (<see cref="EcmaNumber"/>), strings with the minimal escaping of ECMAScript's
/// JSON.stringify (only <c>"</c>, <c>\</c> and the control characters; <c>\b \f \n \r \t</c> by name, the others as
/// <c>\u00xx</c> in lower-case hex). The hash of version 2 is taken over this form; see docs/audit.md.
/// </summary>
public static class Jcs
{
    /// <summary>The canonical text of a JSON document.</summary>
    /// <param name="exact">
    /// Refuse (<see cref="InexactNumberException"/>) a number whose canonical form denotes another value than its text,
    /// as 4294967296.0000001 (a double holds 4294967296): the hash could not tell the two apart.
    /// </param>
    public static string Of(string json, bool exact = false)
    {
        using var document = JsonDocument.Parse(json);
        var builder = new StringBuilder(json.Length);
        Write(document.RootElement, builder, exact);
        return builder.ToString();
    }

    public static void Write(JsonElement element, StringBuilder builder, bool exact = false)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<JsonProperty>();
                foreach (var member in element.EnumerateObject())
                    members.Add(member);
                // Ordinal comparison of .NET strings is by UTF-16 code unit, which is what RFC 8785 (3.2.3) asks.
                members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                builder.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                        builder.Append(',');
                    WriteString(members[i].Name, builder);
                    builder.Append(':');
                    Write(members[i].Value, builder, exact);
                }
                builder.Append('}');
                break;
            case JsonValueKind.Array:
                builder.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                        builder.Append(',');
                    first = false;
                    Write(item, builder, exact);
                }
                builder.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!, builder);
                break;
            case JsonValueKind.Number:
                var text = element.GetRawText();
                if (IsShortInteger(text))
                {
                    // The common case (counts, bytes, ids): at most 15 digits, no sign of zero, no leading zero: a
                    // double holds it exactly and ECMAScript writes it as it is.
                    builder.Append(text);
                    break;
                }
                var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (double.IsInfinity(value))
                    throw new InexactNumberException(text, "Infinity");
                var canonical = EcmaNumber.Format(value);
                if (exact && !EcmaNumber.SameValue(text, canonical))
                    throw new InexactNumberException(text, canonical);
                builder.Append(canonical);
                break;
            case JsonValueKind.True:
                builder.Append("true");
                break;
            case JsonValueKind.False:
                builder.Append("false");
                break;
            default:
                builder.Append("null");
                break;
        }
    }

    static bool IsShortInteger(string text)
    {
        var digits = text.AsSpan(text.StartsWith('-') ? 1 : 0);
        if (digits.Length is 0 or > 15 || (digits[0] == '0' && (digits.Length > 1 || text.Length > 1)))
            return false;
        foreach (var c in digits)
            if (c is < '0' or > '9')
                return false;
        return true;
    }

    public static void WriteString(string value, StringBuilder builder)
    {
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\b':
                    builder.Append("\\b");
                    break;
                case '\f':
                    builder.Append("\\f");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case < ' ':
                    builder.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
        builder.Append('"');
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// One text for one JSON value, however it was written: object keys sorted (ordinal), no whitespace, numbers by their
/// value (the shortest text that round-trips the double), strings escaped as System.Text.Json's default encoder does.
/// PostgreSQL's jsonb reorders keys and rewrites numbers, so the hash is taken over this form, on both sides.
/// </summary>
public static class CanonicalJson
{
    public static string Of(string json)
    {
        using var document = JsonDocument.Parse(json);
        var buffer = new ArrayBufferWriter<byte>(json.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer))
            Write(document.RootElement, writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    static void Write(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                var properties = new List<JsonProperty>();
                foreach (var property in element.EnumerateObject())
                    properties.Add(property);
                properties.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                foreach (var property in properties)
                {
                    writer.WritePropertyName(property.Name);
                    Write(property.Value, writer);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                    Write(item, writer);
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(element.GetDouble().ToString("R", CultureInfo.InvariantCulture), skipInputValidation: true);
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}

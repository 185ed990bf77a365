using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Audit;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// The canonical form decides every stored hash: a faster implementation must give, byte for byte, what the first one
/// gave (kept here as the reference), or every chain written before it would no longer verify.
/// </summary>
public sealed class When_event_content_is_made_canonical
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.FromHours(2));

    public static TheoryData<string> Documents() =>
    [
        """{"b":1,"a":{"d":[3,2.5,-0.0,1e300,1.0E-7,12345678901234567890],"c":null},"A":true,"_":false}""",
        """{"text":"quotes \" and \\ backslash, <tag> & 'apostrophe', tab\t, newline\n, é, 漢字, emoji 😀, \u0001"}""",
        """[{"z":"", "y":[], "x":{}}, 0, -1.5, 17179869184, 9007199254740993]""",
        """{"ключ":"значение","key with space":1,"Key":2,"key":3}""",
        "\"just a string\"",
        "42",
        JsonSerializer.Serialize(new MigrationRequested(Guid.Parse("6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11"), "vm-42", "host-a", "host-b",
            HypervisorKinds.Qemu, MigrationStrategies.Hybrid, new MigrationPolicy(200, 1024, 150, 150, true, false, 3), "placement <svc>", T0, "databases")),
        JsonSerializer.Serialize(new PreCopyRoundCompleted(Guid.Empty, 7, 4L << 30, 123_456_789, 50L << 20, 1L << 30, 115.33333333333333, T0, 30)),
        JsonSerializer.Serialize(new MigrationFailed(Guid.Empty, "Post-copy failed: \"host-c\" unreachable", null, T0)),
    ];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Should_give_exactly_the_text_the_first_implementation_gave(string json) =>
        CanonicalJson.Of(json).ShouldBe(Reference.Of(json));

    [Fact]
    public void Should_not_depend_on_key_order_or_whitespace() =>
        CanonicalJson.Of("""{ "b" : 1.50, "a" : [ 1, 2 ] }""").ShouldBe(CanonicalJson.Of("""{"a":[1,2],"b":1.5}"""));

    /// <summary>The first implementation (over JsonNode), unchanged.</summary>
    static class Reference
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
                case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                    builder.Append(value.GetValue<double>().ToString("R", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(node.ToJsonString());
                    break;
            }
        }
    }
}

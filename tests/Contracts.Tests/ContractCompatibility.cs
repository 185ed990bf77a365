using System.Text.Json.Nodes;

namespace Orchestrator.Contracts.Tests;

/// <summary>
/// What a new schema of a message breaks for those who use the old one (docs/integrate.md, Versions): a member removed,
/// a member whose type or format changed, a member that became required (old senders leave it out), a closed object that
/// was opened or the reverse. A new optional member, a new description or default, breaks nothing.
/// </summary>
public static class ContractCompatibility
{
    public static IReadOnlyList<string> Breaks(JsonObject old, JsonObject @new)
    {
        var breaks = new List<string>();
        Compare("", old, @new, breaks);
        return breaks;
    }

    static void Compare(string path, JsonObject old, JsonObject @new, List<string> breaks)
    {
        foreach (var keyword in new[] { "type", "format", "additionalProperties", "const", "enum" })
        {
            var before = old[keyword]?.ToJsonString();
            var after = @new[keyword]?.ToJsonString();
            if (before != after)
                breaks.Add($"{Name(path)} changed its {keyword} from {before ?? "(none)"} to {after ?? "(none)"}");
        }

        var oldRequired = Strings(old["required"]);
        foreach (var member in Strings(@new["required"]).Except(oldRequired))
            breaks.Add($"{Name(Join(path, member))} became required");

        var newProperties = @new["properties"]?.AsObject();
        if (old["properties"] is JsonObject oldProperties)
        {
            foreach (var (member, schema) in oldProperties)
            {
                if (newProperties?[member] is not JsonObject now)
                    breaks.Add($"{Name(Join(path, member))} was removed");
                else
                    Compare(Join(path, member), schema!.AsObject(), now, breaks);
            }
        }

        foreach (var keyword in new[] { "items", "additionalProperties" })
        {
            if (old[keyword] is JsonObject oldItems && @new[keyword] is JsonObject newItems)
                Compare($"{path}[]", oldItems, newItems, breaks);
        }
        foreach (var keyword in new[] { "oneOf", "anyOf" })
        {
            if (old[keyword] is JsonArray oldAlternatives)
            {
                var newAlternatives = @new[keyword] as JsonArray;
                for (var i = 0; i < oldAlternatives.Count; i++)
                {
                    if (newAlternatives is null || i >= newAlternatives.Count)
                        breaks.Add($"{Name(path)} lost its {keyword} alternative {i}");
                    else if (oldAlternatives[i] is JsonObject a && newAlternatives[i] is JsonObject b)
                        Compare(path, a, b, breaks);
                }
            }
        }
    }

    static IEnumerable<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(item => item!.GetValue<string>()) : [];

    static string Join(string path, string member) => path.Length == 0 ? member : $"{path}.{member}";

    static string Name(string path) => path.Length == 0 ? "the message" : $"member {path}";
}

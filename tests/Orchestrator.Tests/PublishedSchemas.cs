using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Orchestrator.Contracts;

namespace Orchestrator.Tests;

/// <summary>
/// The checked-in contract (docs/schemas/, docs/asyncapi.json; Contracts.Tests keeps them generated from src/Contracts),
/// as a service in another language would use it to check what it sends and receives.
/// </summary>
public static class PublishedSchemas
{
    static readonly JsonObject AsyncApi = JsonNode.Parse(File.ReadAllText(Repository.PathOf("docs", "asyncapi.json")))!.AsObject();

    /// <summary>What is wrong with <paramref name="json"/> as a <paramref name="message"/> (docs/schemas/&lt;message&gt;.json); empty when nothing.</summary>
    public static IReadOnlyList<string> Problems(string message, string json) =>
        Problems(Load(Repository.PathOf("docs", "schemas", $"{message}.json")), json);

    /// <summary>What is wrong with a CloudEvent of <paramref name="event"/> by the AsyncAPI document's envelope schema, its data by the event's schema.</summary>
    public static IReadOnlyList<string> CloudEventProblems(PublicEvent @event, string json)
    {
        var envelope = AsyncApi["components"]!["schemas"]![$"{@event.Type.Name}CloudEvent"]!.DeepClone().AsObject();
        var data = JsonNode.Parse(File.ReadAllText(Repository.PathOf("docs", "schemas", $"{@event.Type.Name}.json")))!.AsObject();
        data.Remove("$schema");
        data.Remove("$id");
        envelope["properties"]!["data"] = data;
        envelope["$schema"] = "http://json-schema.org/draft-07/schema#";
        return Problems(JsonSchema.FromText(envelope.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() }), json);
    }

    static JsonSchema Load(string path) => JsonSchema.FromText(File.ReadAllText(path), new BuildOptions { SchemaRegistry = new SchemaRegistry() });

    static IReadOnlyList<string> Problems(JsonSchema schema, string json)
    {
        var result = schema.Evaluate(JsonDocument.Parse(json).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))];
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Contracts.Tests;

/// <summary>
/// The published contract as files: docs/schemas/&lt;Message&gt;.json for every message of <see cref="PublicContract"/>,
/// and docs/asyncapi.json (AsyncAPI 3.0) that lists each with its exchange, routing key, content type and schema.
/// </summary>
public static class ContractDocuments
{
    public const string AmqpBindingVersion = "0.3.0";

    static readonly JsonSerializerOptions Written = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<(Type Type, bool Command)> Messages =>
        PublicContract.Commands.Select(c => (c.Type, true)).Concat(PublicContract.Events.Select(e => (e.Type, false)));

    /// <summary>Every file, by its path under the repository, with its text.</summary>
    public static IReadOnlyDictionary<string, string> Files()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (type, command) in Messages)
            files[$"docs/schemas/{type.Name}.json"] = Text(ContractSchemas.For(type, command));
        files["docs/asyncapi.json"] = Text(AsyncApi());
        return files;
    }

    public static string Text(JsonNode node) => node.ToJsonString(Written) + "\n";

    public static JsonObject AsyncApi()
    {
        var channels = new JsonObject();
        var operations = new JsonObject();
        var messages = new JsonObject();
        var schemas = new JsonObject();

        foreach (var command in PublicContract.Commands)
        {
            var name = command.Type.Name;
            var key = Camel(name);
            channels[key] = new JsonObject
            {
                ["address"] = command.Exchange,
                ["title"] = name,
                ["description"] = $"The fanout exchange {command.Exchange} and the queue of the same name: publish a {name} to it "
                    + "(routing key ignored) as plain JSON (application/json, camelCase) or as a MassTransit envelope (application/vnd.masstransit+json).",
                ["messages"] = new JsonObject { [name] = Ref($"#/components/messages/{name}") },
                ["bindings"] = new JsonObject
                {
                    ["amqp"] = new JsonObject
                    {
                        ["is"] = "routingKey",
                        ["exchange"] = Exchange(command.Exchange, "fanout"),
                        ["bindingVersion"] = AmqpBindingVersion,
                    },
                },
            };
            operations[$"receive{name}"] = new JsonObject
            {
                ["action"] = "receive",
                ["channel"] = Ref($"#/channels/{key}"),
                ["summary"] = $"The orchestrator takes {name} commands from {command.Exchange}.",
                ["messages"] = new JsonArray(Ref($"#/channels/{key}/messages/{name}")),
            };
            messages[name] = new JsonObject
            {
                ["name"] = name,
                ["title"] = name,
                ["contentType"] = "application/json",
                ["payload"] = Ref($"#/components/schemas/{name}"),
                ["bindings"] = new JsonObject
                {
                    ["amqp"] = new JsonObject { ["messageType"] = $"urn:message:Orchestrator.Contracts:{name}", ["bindingVersion"] = AmqpBindingVersion },
                },
            };
            schemas[name] = Embedded(ContractSchemas.For(command.Type, command: true));
        }

        foreach (var @event in PublicContract.Events)
        {
            var name = @event.Type.Name;
            var key = Camel(name);
            var envelope = $"{name}CloudEvent";
            channels[key] = new JsonObject
            {
                ["address"] = @event.Name,
                ["title"] = name,
                ["description"] = $"Routing key {@event.Name} on the durable topic exchange {PublicContract.EventsExchange}: a {name} as a CloudEvent "
                    + $"(structured mode). .NET services may bind to the MassTransit exchange Orchestrator.Contracts:{name} instead.",
                ["messages"] = new JsonObject { [name] = Ref($"#/components/messages/{name}") },
                ["bindings"] = new JsonObject
                {
                    ["amqp"] = new JsonObject
                    {
                        ["is"] = "routingKey",
                        ["exchange"] = Exchange(PublicContract.EventsExchange, "topic"),
                        ["bindingVersion"] = AmqpBindingVersion,
                    },
                },
            };
            operations[$"send{name}"] = new JsonObject
            {
                ["action"] = "send",
                ["channel"] = Ref($"#/channels/{key}"),
                ["summary"] = $"The orchestrator publishes every {name} to {PublicContract.EventsExchange} with routing key {@event.Name}.",
                ["messages"] = new JsonArray(Ref($"#/channels/{key}/messages/{name}")),
                ["bindings"] = new JsonObject
                {
                    ["amqp"] = new JsonObject { ["deliveryMode"] = 2, ["bindingVersion"] = AmqpBindingVersion },
                },
            };
            messages[name] = new JsonObject
            {
                ["name"] = name,
                ["title"] = name,
                ["summary"] = $"CloudEvents type {@event.CloudEventType}; data is a {name}, schema version {@event.SchemaVersion}.",
                ["contentType"] = "application/cloudevents+json",
                ["headers"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["cloudEvents_type"] = new JsonObject { ["type"] = "string", ["const"] = @event.CloudEventType },
                        ["schemaVersion"] = new JsonObject { ["type"] = "integer", ["const"] = @event.SchemaVersion },
                    },
                },
                ["payload"] = Ref($"#/components/schemas/{envelope}"),
                ["bindings"] = new JsonObject
                {
                    ["amqp"] = new JsonObject { ["messageType"] = @event.CloudEventType, ["bindingVersion"] = AmqpBindingVersion },
                },
            };
            schemas[envelope] = CloudEvent(@event);
            schemas[name] = Embedded(ContractSchemas.For(@event.Type, command: false));
        }

        return new JsonObject
        {
            ["asyncapi"] = "3.0.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Orchestrator bus",
                ["version"] = "1",
                ["description"] = "The commands other services send the orchestrator over RabbitMQ and the integration events it publishes. "
                    + "Every message carries schemaVersion (absent means 1); docs/integrate.md says what may change without a new version. "
                    + "Generated from src/Contracts; each schema is also in docs/schemas/.",
            },
            ["defaultContentType"] = "application/json",
            ["servers"] = new JsonObject
            {
                ["rabbitmq"] = new JsonObject
                {
                    ["host"] = "localhost:5672",
                    ["protocol"] = "amqp",
                    ["protocolVersion"] = "0.9.1",
                    ["description"] = "The RabbitMQ the orchestrator's serve role is configured with (ConnectionStrings__RabbitMq).",
                },
            },
            ["channels"] = channels,
            ["operations"] = operations,
            ["components"] = new JsonObject { ["schemas"] = schemas, ["messages"] = messages },
        };
    }

    /// <summary>The CloudEvents 1.0 structured-mode envelope of an event, its data the event's own schema.</summary>
    static JsonObject CloudEvent(PublicEvent @event) => new()
    {
        ["type"] = "object",
        ["required"] = new JsonArray("specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "data"),
        ["properties"] = new JsonObject
        {
            ["specversion"] = new JsonObject { ["type"] = "string", ["const"] = "1.0" },
            ["id"] = new JsonObject { ["type"] = "string", ["description"] = "Unique per event; a redelivered event keeps its id." },
            ["source"] = new JsonObject { ["type"] = "string", ["const"] = PublicContract.EventSource },
            ["type"] = new JsonObject { ["type"] = "string", ["const"] = @event.CloudEventType },
            ["subject"] = new JsonObject { ["type"] = "string", ["description"] = "The migration id (or the drain id), when the event has one." },
            ["time"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" },
            ["datacontenttype"] = new JsonObject { ["type"] = "string", ["const"] = "application/json" },
            ["dataschema"] = new JsonObject { ["type"] = "string", ["const"] = $"urn:orchestrator:schema:{@event.Type.Name}:v{@event.SchemaVersion}" },
            ["data"] = Ref($"#/components/schemas/{@event.Type.Name}"),
        },
    };

    /// <summary>A message's schema inside the AsyncAPI document: the same, without the keywords of a standalone file.</summary>
    static JsonObject Embedded(JsonObject schema)
    {
        var copy = schema.DeepClone().AsObject();
        copy.Remove("$schema");
        copy.Remove("$id");
        return copy;
    }

    static JsonObject Exchange(string name, string type) => new()
    {
        ["name"] = name,
        ["type"] = type,
        ["durable"] = true,
        ["autoDelete"] = false,
        ["vhost"] = "/",
    };

    static JsonObject Ref(string path) => new() { ["$ref"] = path };

    static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

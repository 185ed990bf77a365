using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.Generation;

namespace Orchestrator.Contracts.Tests;

/// <summary>
/// The JSON Schema of each public message, generated from its record in src/Contracts with NJsonSchema (System.Text.Json
/// web defaults: camelCase), then made plain: a member is required when its constructor parameter has no default, an
/// optional member carries its default (<c>schemaVersion</c>: 1), nested records are written in place (no <c>$ref</c>,
/// so each schema stands alone in docs/schemas/ and inside docs/asyncapi.json), commands allow no other member (the intake
/// refuses them) and events do (a consumer ignores what it does not know).
/// </summary>
public static class ContractSchemas
{
    public const string Draft = "http://json-schema.org/draft-07/schema#";

    static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static JsonObject For(Type type, bool command)
    {
        var settings = new SystemTextJsonSchemaGeneratorSettings
        {
            SerializerOptions = Web,
            SchemaType = SchemaType.JsonSchema,
            DefaultReferenceTypeNullHandling = ReferenceTypeNullHandling.NotNull,
            GenerateAbstractProperties = false,
        };
        var generated = JsonNode.Parse(JsonSchema.FromType(type, settings).ToJson())!.AsObject();
        var definitions = generated["definitions"]?.AsObject();
        var schema = Plain(type, generated, definitions, command);
        var result = new JsonObject
        {
            ["$schema"] = Draft,
            ["$id"] = $"urn:orchestrator:schema:{type.Name}:v{Version(type)}",
        };
        foreach (var (key, value) in schema)
            result[key] = value?.DeepClone();
        return result;
    }

    /// <summary>The version a message of this type carries when it says none: its <c>SchemaVersion</c> parameter's default.</summary>
    public static int Version(Type type) =>
        (int)Constructor(type).GetParameters().Single(p => p.Name == "SchemaVersion").DefaultValue!;

    static ConstructorInfo Constructor(Type type) =>
        type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();

    static JsonObject Plain(Type type, JsonObject schema, JsonObject? definitions, bool closed)
    {
        var parameters = Constructor(type).GetParameters().ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name!));
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var (name, node) in schema["properties"]!.AsObject())
        {
            var property = Inline(node!.AsObject(), definitions, closed);
            if (parameters.TryGetValue(name, out var parameter))
            {
                if (!parameter.HasDefaultValue)
                    required.Add(name);
                else if (parameter.DefaultValue is { } value)
                    property["default"] = JsonValue.Create(value);
            }
            properties[name] = property;
        }
        var plain = new JsonObject
        {
            ["title"] = type.Name,
            ["type"] = "object",
            ["additionalProperties"] = !closed,
            ["required"] = required,
            ["properties"] = properties,
        };
        return plain;
    }

    /// <summary>A property's schema with every <c>#/definitions/X</c> replaced by X itself (records nest a level or two, never in a cycle).</summary>
    static JsonObject Inline(JsonObject node, JsonObject? definitions, bool closed)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in node)
        {
            if (key == "$ref" && value?.GetValue<string>() is { } reference && reference.StartsWith("#/definitions/", StringComparison.Ordinal))
            {
                var name = reference["#/definitions/".Length..];
                var definition = definitions![name]!.AsObject();
                var nestedType = typeof(StartMigration).Assembly.GetTypes().FirstOrDefault(t => t.Name == name && t.Namespace == typeof(StartMigration).Namespace);
                var inlined = nestedType is not null && definition["properties"] is not null
                    ? Plain(nestedType, definition, definitions, closed)
                    : Inline(definition, definitions, closed);
                foreach (var (k, v) in inlined)
                    copy[k] = v?.DeepClone();
                continue;
            }
            if (key == "format" && value?.GetValue<string>() == "guid")
            {
                copy[key] = "uuid";   // JSON Schema's name for what NJsonSchema calls guid
                continue;
            }
            copy[key] = value switch
            {
                JsonObject child => Inline(child, definitions, closed),
                JsonArray array => new JsonArray([.. array.Select(item => item is JsonObject o ? Inline(o, definitions, closed) : item?.DeepClone())]),
                _ => value?.DeepClone(),
            };
        }
        return copy;
    }
}

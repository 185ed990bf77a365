using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orchestrator.Contracts.Tests;

/// <summary>
/// Issue 17: docs/schemas/ and docs/asyncapi.json are generated from src/Contracts and checked in; the copies in the
/// repository must be what the contracts generate (ORCHESTRATOR_REGENERATE_CONTRACT=1 rewrites them), a change must not
/// break the checked-in schema of a version (else the version rises), and the AsyncAPI document must be valid AsyncAPI 3.0.
/// </summary>
public sealed class When_the_bus_contract_is_published
{
    static readonly IReadOnlyDictionary<string, string> Generated = ContractDocuments.Files();

    static bool Regenerate => Environment.GetEnvironmentVariable("ORCHESTRATOR_REGENERATE_CONTRACT") == "1";

    [Fact]
    public void Should_keep_every_member_and_type_of_the_checked_in_schema_of_each_version() =>
        Breaks().ShouldBeEmpty("an incompatible change needs a new schemaVersion (docs/integrate.md, Versions)");

    static List<string> Breaks()
    {
        var breaks = new List<string>();
        foreach (var (type, command) in ContractDocuments.Messages)
        {
            var path = Repository.PathOf("docs", "schemas", $"{type.Name}.json");
            if (!File.Exists(path))
                continue;   // a new message: nothing to break
            var old = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var now = ContractSchemas.For(type, command);
            if (old["$id"]?.GetValue<string>() != now["$id"]!.GetValue<string>())
                continue;   // the version rose: the old one's readers are told by the version
            breaks.AddRange(ContractCompatibility.Breaks(old, now).Select(problem => $"{type.Name}: {problem}"));
        }
        return breaks;
    }

    [Fact]
    public void Should_have_checked_in_what_the_contracts_generate()
    {
        var checkedIn = Directory.GetFiles(Repository.PathOf("docs", "schemas"), "*.json")
            .Select(file => $"docs/schemas/{Path.GetFileName(file)}").Append("docs/asyncapi.json").ToHashSet();
        if (Regenerate)
        {
            // Judged against the old files first: regenerating cannot hide a break.
            Breaks().ShouldBeEmpty("an incompatible change needs a new schemaVersion (docs/integrate.md, Versions)");
            foreach (var stale in checkedIn.Except(Generated.Keys))
                File.Delete(Repository.PathOf(stale));
            foreach (var (path, text) in Generated)
                File.WriteAllText(Repository.PathOf(path), text);
        }

        var differ = Generated.Where(file => !File.Exists(Repository.PathOf(file.Key)) || File.ReadAllText(Repository.PathOf(file.Key)) != file.Value)
            .Select(file => file.Key)
            .Concat(Regenerate ? [] : checkedIn.Except(Generated.Keys))
            .ToList();
        differ.ShouldBeEmpty("the checked-in contract differs from src/Contracts: run the Contracts tests with ORCHESTRATOR_REGENERATE_CONTRACT=1 and commit the files");
    }

    [Fact]
    public void Should_validate_the_asyncapi_document_against_the_asyncapi_3_schema()
    {
        var meta = AsyncApiMetaSchema();
        var document = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("docs", "asyncapi.json"))).RootElement;

        var result = meta.Evaluate(document, new EvaluationOptions { OutputFormat = OutputFormat.List });

        result.IsValid.ShouldBeTrue(string.Join("\n", Errors(result)));
    }

    [Fact]
    public void Should_find_a_document_that_breaks_asyncapi_3_invalid()
    {
        var meta = AsyncApiMetaSchema();
        var broken = ContractDocuments.AsyncApi();
        broken["channels"]!["startMigration"]!["address"] = 42;
        broken["operations"]!["receiveStartMigration"]!["action"] = "consume";

        meta.Evaluate(JsonDocument.Parse(broken.ToJsonString()).RootElement).IsValid.ShouldBeFalse();
    }

    [Fact]
    public void Should_give_every_public_message_a_schema_version_and_list_it()
    {
        var versioned = typeof(StartMigration).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(StartMigration).Namespace && t.GetConstructors().Any(c => c.GetParameters().Any(p => p.Name == "SchemaVersion" && p.HasDefaultValue)))
            .ToHashSet();
        var listed = ContractDocuments.Messages.Select(m => m.Type).ToHashSet();

        listed.Except(versioned).ShouldBeEmpty("every listed message carries a SchemaVersion");
        versioned.Except(listed).ShouldBeEmpty("every message with a SchemaVersion is listed in PublicContract");
        foreach (var type in listed)
        {
            var parameters = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First().GetParameters();
            parameters[^1].Name.ShouldBe("SchemaVersion", $"{type.Name}: the version is the trailing member");
            parameters[^1].DefaultValue.ShouldBe(PublicContract.DefaultSchemaVersion, $"{type.Name}: absent means version 1");
        }
        PublicContract.Events.Select(e => e.Name).ShouldBeUnique();
    }

    [Fact]
    public void Should_read_a_message_of_an_older_producer_that_sends_no_schema_version_as_version_1()
    {
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);

        JsonSerializer.Deserialize<MigrationCompleted>(
                """{"migrationId":"6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11","vmId":"v","runningOn":"b","downtimeMs":1,"durationMs":2,"timestamp":"2026-01-01T00:00:00Z"}""", web)!
            .SchemaVersion.ShouldBe(1);
        JsonSerializer.Deserialize<CancelMigration>("""{"migrationId":"6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11"}""", web)!.SchemaVersion.ShouldBe(1);
        JsonSerializer.Serialize(new CancelMigration(Guid.Empty), web).ShouldContain("\"schemaVersion\":1");
    }

    /// <summary>
    /// The AsyncAPI 3.0.0 JSON Schema (bundled, without $id) of the npm package @asyncapi/specs (Apache-2.0), which the
    /// test command unpacks into .data/asyncapi-specs (ORCHESTRATOR_ASYNCAPI_SCHEMA names another copy).
    /// </summary>
    static JsonSchema AsyncApiMetaSchema()
    {
        var path = Environment.GetEnvironmentVariable("ORCHESTRATOR_ASYNCAPI_SCHEMA") is { Length: > 0 } named
            ? named
            : Repository.PathOf(".data", "asyncapi-specs", "package", "schemas", "3.0.0-without-$id.json");
        File.Exists(path).ShouldBeTrue($"The AsyncAPI 3.0 JSON Schema is not at {path}: ./test.sh fetches it (npm pack @asyncapi/specs).");
        return JsonSchema.FromText(File.ReadAllText(path), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }

    static IEnumerable<string> Errors(EvaluationResults result) =>
        (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Key} {e.Value}"))
            .Take(40);
}

using NJsonSchema.CodeGeneration.CSharp;
using NSwag;
using NSwag.CodeGeneration.CSharp;
using NSwag.CodeGeneration.OperationNameGenerators;

namespace Orchestrator.Tests;

/// <summary>
/// Issue 17: a client generated from the published document alone (docs/openapi.json, with NSwag, as another team would)
/// is checked in as Generated/OrchestratorApiClient.cs and compiled with these tests; When_clients_use_the_http_api runs
/// a migration through it. This test fails when the document has changed and the client was not generated again
/// (ORCHESTRATOR_WRITE_OPENAPI=1 rewrites it).
/// </summary>
public sealed class When_a_client_is_generated_from_the_openapi_document
{
    public const string ClientPath = "tests/Orchestrator.Tests/Generated/OrchestratorApiClient.cs";

    [Fact]
    public async Task Should_generate_the_client_that_is_checked_in()
    {
        var document = await OpenApiDocument.FromJsonAsync(CheckedInFile.Read("docs/openapi.json"), TestContext.Current.CancellationToken);

        var code = Generate(document);

        code.ShouldContain("public virtual async System.Threading.Tasks.Task<MigrationAccepted> StartMigrationAsync(");
        CheckedInFile.ShouldMatch(ClientPath, code);
    }

    static string Generate(OpenApiDocument document)
    {
        var settings = new CSharpClientGeneratorSettings
        {
            ClassName = "OrchestratorApiClient",
            // One client class whose methods are named after the operationIds (startMigration: StartMigrationAsync).
            OperationNameGenerator = new SingleClientFromOperationIdOperationNameGenerator(),
            // The caller's HttpClient, its BaseAddress and its X-Api-Key header.
            UseBaseUrl = false,
            InjectHttpClient = true,
            GenerateClientInterfaces = false,
            ExceptionClass = "OrchestratorApiException",
        };
        settings.CSharpGeneratorSettings.Namespace = "Orchestrator.Tests.Generated";
        settings.CSharpGeneratorSettings.JsonLibrary = CSharpJsonLibrary.SystemTextJson;
        settings.CSharpGeneratorSettings.GenerateNullableReferenceTypes = true;
        return new CSharpClientGenerator(document, settings).GenerateFile();
    }
}

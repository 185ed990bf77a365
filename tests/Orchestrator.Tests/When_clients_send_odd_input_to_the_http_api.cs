using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Orchestrator.Api;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// Issue 14's HTTP reproductions: no input is answered 500, and every answer is true (a 400 that names the member and
/// the rule, the valid range where there is one; 404 for what does not exist; 413 and 415 for bodies the API does not read).
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_clients_send_odd_input_to_the_http_api(RabbitMqOrchestrator orchestrator) : IAsyncLifetime
{
    ApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await ApiServer.StartAsync(orchestrator.Settings);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("page=2147483647", "page", "between 1 and 1000000")]
    [InlineData("page=5000000&pageSize=500", "page", "between 1 and 1000000")]
    [InlineData("pageSize=0", "pageSize", "between 1 and 500")]
    [InlineData("state=%00", "state", "is not a state")]
    [InlineData("vm=%00", "vm", "is not a valid name")]
    [InlineData("host=host%20b", "host", "is not a valid name")]
    [InlineData("id=055b-0000", "id", "is not the start of a migration id")]
    [InlineData("id=xyz", "id", "is not the start of a migration id")]
    [InlineData("id=%25", "id", "is not the start of a migration id")]
    public async Task Should_answer_a_list_query_out_of_range_with_400_naming_the_parameter(string query, string member, string rule)
    {
        using var client = _api.Client(ApiRoles.Viewer);

        var response = await client.GetAsync($"/api/migrations?{query}");

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, member, rule);
    }

    [Fact]
    public async Task Should_answer_a_host_that_is_not_a_name_with_400()
    {
        using var client = _api.Client(ApiRoles.Viewer);

        await ShouldBeProblem(await client.GetAsync("/api/hosts/host%20b"), HttpStatusCode.BadRequest, "name", "Name 'host b' is not a valid name");
        // A NUL in the path is refused by Kestrel itself, before any endpoint: a 400 without a body, never a 500.
        (await client.GetAsync("/api/hosts/host%00b")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Should_answer_a_nul_in_the_vm_id_with_400_naming_the_rule()
    {
        using var client = _api.Client(ApiRoles.Operator);

        var response = await client.PostAsync("/api/migrations",
            Json("""{"vmId":"vm-\u0000","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"}"""));

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, "vmId", @"VmId 'vm-\u0000' is not a valid name: a name is 1–63 characters");
    }

    [Fact]
    public async Task Should_answer_a_number_written_as_a_string_with_400_as_amqp_does()
    {
        using var client = _api.Client(ApiRoles.Operator);

        var response = await client.PostAsync("/api/migrations",
            Json("""{"vmId":"vm-http-odd-1","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim","policy":{"maxDowntimeMs":"300"}}"""));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        (await response.Content.ReadAsStringAsync()).ShouldContain("maxDowntimeMs");
    }

    [Fact]
    public async Task Should_answer_a_schema_version_this_release_does_not_read_with_400_in_the_words_of_amqp()
    {
        using var client = _api.Client(ApiRoles.Operator);

        var response = await client.PostAsync("/api/migrations",
            Json("""{"vmId":"vm-http-v2","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim","schemaVersion":2}"""));

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, "schemaVersion",
            "SchemaVersion 2 of StartMigration is not supported: this orchestrator reads version 1 only. Send schemaVersion 1 (or leave it out)");
    }

    [Fact]
    public async Task Should_serve_the_asyncapi_document_that_is_checked_in_to_anyone()
    {
        using var client = new HttpClient { BaseAddress = _api.Address };

        var response = await client.GetAsync("/asyncapi.json");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        (await response.Content.ReadAsStringAsync()).ShouldBe(await File.ReadAllTextAsync(Repository.PathOf("docs", "asyncapi.json")));
    }

    [Fact]
    public async Task Should_answer_a_body_over_64_kib_with_413()
    {
        using var client = _api.Client(ApiRoles.Operator);
        var labels = JsonSerializer.Serialize(new { tier = new string('x', 200_000) });

        var body = $$"""{"vmId":"vm-http-odd-2","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim","vmLabels":{{labels}}}""";

        var response = await client.PostAsync("/api/migrations", Json(body));

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge, await response.Content.ReadAsStringAsync());
        // As the AMQP intake says it (When_a_service_sends_odd_input_over_rabbitmq).
        (await response.Content.ReadAsStringAsync()).ShouldContain($"The body is {Encoding.UTF8.GetByteCount(body)} bytes; at most 65536 are accepted.");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task Should_answer_a_body_not_said_to_be_json_with_415(string contentType)
    {
        using var client = _api.Client(ApiRoles.Operator);

        var response = await client.PostAsync("/api/migrations",
            new StringContent("""{"vmId":"vm-http-odd-3","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"}""", Encoding.UTF8, contentType));

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType, await response.Content.ReadAsStringAsync());
        (await response.Content.ReadAsStringAsync()).ShouldContain($"Content type '{contentType}' is not accepted: send application/json.");
    }

    [Fact]
    public async Task Should_answer_a_replay_outside_the_stream_with_400_and_the_valid_range()
    {
        using var client = _api.Client(ApiRoles.Operator);
        var id = await StartAndWait(client, "vm-http-odd-replay");
        var events = await client.GetFromJsonAsync<JsonElement[]>($"/api/migrations/{id}/events");

        foreach (var query in new[] { "version=-1", "version=0", "version=99999999999" })
            await ShouldBeProblem(await client.GetAsync($"/api/migrations/{id}/replay?{query}"), HttpStatusCode.BadRequest, "version",
                $"has versions 1 to {events!.Length}");
        await ShouldBeProblem(await client.GetAsync($"/api/migrations/{id}/replay?at=1900-01-01T00:00:00Z"), HttpStatusCode.BadRequest, "at",
            "has events from");
        (await client.GetAsync($"/api/migrations/{id}/replay?version={events!.Length}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync($"/api/migrations/{Guid.NewGuid()}/replay?version=1")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_answer_an_export_of_an_unknown_migration_with_404()
    {
        using var client = _api.Client(ApiRoles.Auditor);

        var response = await client.GetAsync($"/api/migrations/{Guid.NewGuid()}/export");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Should_answer_a_drain_of_a_host_that_is_not_a_name_with_400()
    {
        using var client = _api.Client(ApiRoles.Operator);

        var response = await client.PostAsync("/api/drains", Json("""{"host":"host c","targets":["e2e-b"]}"""));

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, "host", "Host 'host c' is not a valid name");
    }

    [Fact]
    public async Task Should_answer_a_cancel_whose_reason_holds_a_control_character_with_400()
    {
        using var client = _api.Client(ApiRoles.Operator);

        var response = await client.PostAsync($"/api/migrations/{Guid.NewGuid()}/cancel", Json("""{"reason":"stop\u0007now"}"""));

        await ShouldBeProblem(response, HttpStatusCode.BadRequest, "reason", "Reason holds a control character (U+0007) at position 4");
    }

    [Fact]
    public async Task Should_exit_4_when_the_cli_verifies_a_migration_nobody_knows()
    {
        var (exitCode, output) = await RunCli("audit", "verify", Guid.NewGuid().ToString());

        exitCode.ShouldBe(4, output);
        output.ShouldContain("is known");
        output.ShouldNotContain("intact");
    }

    [Fact]
    public async Task Should_exit_64_when_the_cli_is_given_a_host_that_is_not_a_name()
    {
        var (exitCode, output) = await RunCli("migrate", "--vm", "vm-cli-odd", "--from", "e2e-a", "--to", "e2e-b#evil");

        exitCode.ShouldBe(64, output);
        output.ShouldContain("TargetHost (--to) 'e2e-b#evil' is not a valid name");
    }

    [Fact]
    public async Task Should_exit_64_when_a_worker_is_given_a_host_that_is_not_a_name()
    {
        var (exitCode, output) = await OrchestratorProcess.Run(new Dictionary<string, string> { ["ConnectionStrings__RabbitMq"] = orchestrator.Settings.RabbitMq },
            "worker", "--driver", "sim", "--host", "e2e-a", "--host", "host b");

        exitCode.ShouldBe(64, output);
        output.ShouldContain("--host 'host b' is not a valid name");
    }

    async Task<Guid> StartAndWait(HttpClient client, string vm)
    {
        var response = await client.PostAsync("/api/migrations", Json($$"""{"vmId":"{{vm}}","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"}"""));
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("migrationId").GetGuid();
        await orchestrator.WaitForEnd(id);
        return id;
    }

    static async Task ShouldBeProblem(HttpResponseMessage response, HttpStatusCode status, string member, string rule)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        errors.TryGetProperty(member, out var problems).ShouldBeTrue(body);
        problems.EnumerateArray().ShouldContain(p => p.GetString()!.Contains(rule), body);
    }

    async Task<(int ExitCode, string Output)> RunCli(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orchestrator.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["ConnectionStrings__Postgres"] = orchestrator.Settings.Postgres;
        start.Environment["Orchestrator__Schema"] = orchestrator.Settings.Schema;
        start.Environment["COLUMNS"] = "200";
        start.Environment["ORCHESTRATOR_API"] = _api.Address.ToString();
        start.Environment["ORCHESTRATOR_API_KEY"] = ApiServer.Keys[ApiRoles.Operator];
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }
}

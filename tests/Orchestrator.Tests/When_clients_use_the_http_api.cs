using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Marten;
using Npgsql;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_clients_use_the_http_api(RabbitMqOrchestrator orchestrator) : IAsyncLifetime
{
    ApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await ApiServer.StartAsync(orchestrator.Settings);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    static string StartBody(string vm, string target = "e2e-b") =>
        $$"""{"vmId":"{{vm}}","sourceHost":"e2e-a","targetHost":"{{target}}","hypervisor":"sim"}""";

    [Fact]
    public async Task Should_run_a_migration_started_over_http_and_record_who_asked()
    {
        using var client = _api.Client(ApiRoles.Operator);

        var response = await client.PostAsync("/api/migrations", Json(StartBody("vm-http-1")));

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("migrationId").GetGuid();
        response.Headers.Location!.ToString().ShouldBe($"/api/migrations/{id}");
        var summary = await Eventually.Get(() => Summary(client, id), s => s?.State == MigrationStates.Completed, "the migration to complete over HTTP");
        summary!.RequestedBy.ShouldBe("operator-client");
        var events = await client.GetFromJsonAsync<JsonElement[]>($"/api/migrations/{id}/events");
        events!.First().GetProperty("type").GetString().ShouldBe(nameof(MigrationRequested));
        events!.First().GetProperty("headers").GetProperty("principal").GetString().ShouldBe("operator-client");
        using var auditor = _api.Client(ApiRoles.Auditor);
        var verdict = await auditor.GetFromJsonAsync<JsonElement>($"/api/migrations/{id}/verify");
        verdict.GetProperty("intact").GetBoolean().ShouldBeTrue(verdict.ToString());
    }

    [Fact]
    public async Task Should_answer_each_role_as_its_rights_say()
    {
        var id = Guid.NewGuid();
        (string Method, string Path, string? Body, string[] Allowed)[] endpoints =
        [
            ("POST", "/api/migrations", StartBody("vm-http-access", target: "e2e-a"), [ApiRoles.Operator, ApiRoles.Service]),
            ("POST", $"/api/migrations/{id}/cancel", "{}", [ApiRoles.Operator, ApiRoles.Service]),
            ("POST", $"/api/migrations/{id}/force-complete", null, [ApiRoles.Operator, ApiRoles.Service]),
            ("POST", $"/api/migrations/{id}/recover", null, [ApiRoles.Operator]),
            ("POST", $"/api/migrations/{id}/retry", null, [ApiRoles.Operator, ApiRoles.Service]),
            ("GET", "/api/migrations", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", $"/api/migrations/{id}", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", $"/api/migrations/{id}/events", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor]),
            ("GET", $"/api/migrations/{id}/verify", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor]),
            ("GET", $"/api/migrations/{id}/replay?version=1", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor]),
            ("GET", $"/api/migrations/{id}/export", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor]),
            ("GET", "/api/audit/export?since=2026-01-01T00:00:00Z", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor]),
            ("POST", "/api/drains", """{"host":"e2e-a","targets":["e2e-a"]}""", [ApiRoles.Operator]),
            ("GET", $"/api/drains/{id}", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", "/api/drains?id=0", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", "/openapi/v1.json", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", "/api/hosts", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", "/api/hosts/e2e-a", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", "/api/statistics?hypervisor=sim&since=2026-01-01T00:00:00Z", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
            ("GET", "/api/attention", null, [ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer]),
        ];

        foreach (var (method, path, body, allowed) in endpoints)
        {
            (await Send(_api.Client(), method, path, body)).ShouldBe(HttpStatusCode.Unauthorized, $"{method} {path} without credentials");
            (await Send(_api.Client(key: "not-a-key"), method, path, body)).ShouldBe(HttpStatusCode.Unauthorized, $"{method} {path} with a wrong key");
            foreach (var role in ApiServer.Keys.Keys)
            {
                var status = await Send(_api.Client(role), method, path, body);
                if (allowed.Contains(role))
                    ((int)status).ShouldBeOneOf([200, 202, 400, 404, 409], $"{method} {path} as {role}");
                else
                    status.ShouldBe(HttpStatusCode.Forbidden, $"{method} {path} as {role}");
            }
        }
        (await Send(_api.Client(), "GET", "/health", null)).ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("{\"vmId\": \"vm-x\", \"sourceHost\": ", "The request body cannot be read.")]
    [InlineData("{\"vmId\":\"vm-x\",\"sourceHost\":\"e2e-a\",\"targetHost\":\"e2e-b\",\"hypervisor\":\"sim\",\"colour\":\"blue\"}", "colour")]
    [InlineData("{\"vmId\":\"vm-x\",\"sourceHost\":\"e2e-a\",\"targetHost\":\"e2e-b\",\"hypervisor\":\"sim\",\"policy\":{\"maxDowntimeMs\":-5}}", "policy.maxDowntimeMs")]
    [InlineData("{\"vmId\":\"vm-x\",\"sourceHost\":\"e2e-a\",\"targetHost\":\"e2e-b\",\"hypervisor\":\"qemu\",\"policy\":{\"xbzrleCacheMiB\":3}}", "a power of two")]
    [InlineData("{\"vmId\":\"vm-x\",\"sourceHost\":\"e2e-a\",\"targetHost\":\"e2e-b\",\"hypervisor\":\"qemu\",\"policy\":{\"multifdChannels\":300}}", "policy.multifdChannels")]
    [InlineData("{\"vmId\":\"\",\"sourceHost\":\"e2e-a\",\"targetHost\":\"e2e-a\",\"hypervisor\":\"vmware\"}", "targetHost")]
    public async Task Should_refuse_a_bad_request_with_problem_details_and_change_nothing(string body, string expected)
    {
        using var client = _api.Client(ApiRoles.Operator);
        var before = await client.GetFromJsonAsync<JsonElement>("/api/migrations?pageSize=1");

        var response = await client.PostAsync("/api/migrations", Json(body));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadAsStringAsync()).ShouldContain(expected);
        var after = await client.GetFromJsonAsync<JsonElement>("/api/migrations?pageSize=1");
        after.GetProperty("total").GetInt32().ShouldBe(before.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Should_refuse_to_cancel_a_completed_migration_with_the_reason()
    {
        using var client = _api.Client(ApiRoles.Operator);
        var started = await client.PostAsync("/api/migrations", Json(StartBody("vm-http-2")));
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("migrationId").GetGuid();
        await Eventually.Get(() => Summary(client, id), s => s?.State == MigrationStates.Completed, "completion");

        var response = await client.PostAsync($"/api/migrations/{id}/cancel", Json("""{"reason":"too late"}"""));

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await response.Content.ReadAsStringAsync()).ShouldContain("cancel applies to Queued, Checking, Preparing and PreCopying");
    }

    [Fact]
    public async Task Should_retry_a_rolled_back_migration_as_a_new_one_and_refuse_to_recover_it()
    {
        using var client = _api.Client(ApiRoles.Operator);
        // No worker serves e2e-gone: the target never prepares, the migration rolls back after the prepare timeout.
        var started = await client.PostAsync("/api/migrations", Json(StartBody("vm-http-retry", target: "e2e-gone")));
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("migrationId").GetGuid();
        await Eventually.Get(() => Summary(client, id), s => s?.State == MigrationStates.RolledBack, "the rollback");

        var recover = await client.PostAsync($"/api/migrations/{id}/recover", null);
        var retry = await client.PostAsync($"/api/migrations/{id}/retry", null);

        recover.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await recover.Content.ReadAsStringAsync()).ShouldContain("ended RolledBack");
        retry.StatusCode.ShouldBe(HttpStatusCode.Accepted, await retry.Content.ReadAsStringAsync());
        var body = await retry.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("retryOf").GetGuid().ShouldBe(id);
        var again = await Eventually.Get(() => Summary(client, body.GetProperty("migrationId").GetGuid()), s => s is not null, "the retry to start");
        (again!.VmId, again.SourceHost, again.TargetHost, again.RequestedBy).ShouldBe(("vm-http-retry", "e2e-a", "e2e-gone", "operator-client"));
    }

    /// <summary>
    /// Issue 17: the document served is the one checked in (docs/openapi.json), which generated clients are built from;
    /// ORCHESTRATOR_WRITE_OPENAPI=1 rewrites it. Every operation has an operationId, and every protected one the API key.
    /// </summary>
    [Fact]
    public async Task Should_serve_the_openapi_document_that_is_checked_in()
    {
        using var viewer = _api.Client(ApiRoles.Viewer);

        var served = await viewer.GetStringAsync("/openapi/v1.json");

        var document = JsonDocument.Parse(served).RootElement;
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Path: path.Name, Operation: operation.Value))).ToList();
        operations.Count.ShouldBeGreaterThan(20);
        foreach (var (path, operation) in operations)
        {
            operation.TryGetProperty("operationId", out _).ShouldBeTrue(path);
            operation.GetProperty("security").GetArrayLength().ShouldBe(2, path);
            operation.GetProperty("responses").TryGetProperty("503", out var unavailable).ShouldBeTrue(path);
            unavailable.GetProperty("headers").TryGetProperty("Retry-After", out _).ShouldBeTrue(path);
        }
        CheckedInFile.ShouldMatch("docs/openapi.json", Indented(served));
    }

    /// <summary>Issue 17: a service that knows only the document (the client generated from it) starts a migration and sees it end.</summary>
    [Fact]
    public async Task Should_run_a_migration_through_the_client_generated_from_the_document()
    {
        using var http = _api.Client();
        http.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, ApiServer.Keys[ApiRoles.Service]);
        var client = new Generated.OrchestratorApiClient(http);

        var accepted = await client.StartMigrationAsync(new Generated.StartMigrationRequest
        {
            VmId = "vm-http-generated", SourceHost = "e2e-a", TargetHost = "e2e-b", Hypervisor = HypervisorKinds.Sim,
            Policy = new Generated.MigrationPolicy { MaxDowntimeMs = 500 },
        });

        var summary = await Eventually.Get(async () =>
        {
            try
            {
                return await client.GetMigrationAsync(accepted.MigrationId);
            }
            catch (Generated.OrchestratorApiException<Generated.ProblemDetails> notYet) when (notYet.StatusCode == 404)
            {
                return null;
            }
        }, s => s?.State == MigrationStates.Completed, "the migration started by the generated client to complete");
        (summary!.VmId, summary.RequestedBy).ShouldBe(("vm-http-generated", "service-client"));
        var page = await client.ListMigrationsAsync(null, null, null, "vm-http-generated", null, null, null, null, null);
        page.Items.ShouldContain(item => item.Id == accepted.MigrationId);
        (await client.GetMigrationEventsAsync(accepted.MigrationId)).First().Type.ShouldBe(nameof(MigrationRequested));
    }

    [Fact]
    public async Task Should_surface_a_refusal_as_the_generated_clients_exception_with_the_problem()
    {
        using var http = _api.Client(ApiRoles.Operator);
        var client = new Generated.OrchestratorApiClient(http);
        var unknown = Guid.NewGuid();

        var invalid = await Should.ThrowAsync<Generated.OrchestratorApiException<Generated.HttpValidationProblemDetails>>(() => client.StartMigrationAsync(
            new Generated.StartMigrationRequest { VmId = "vm http", SourceHost = "e2e-a", TargetHost = "e2e-b", Hypervisor = HypervisorKinds.Sim }));
        var missing = await Should.ThrowAsync<Generated.OrchestratorApiException<Generated.ProblemDetails>>(() => client.GetMigrationAsync(unknown));
        var forbidden = await Should.ThrowAsync<Generated.OrchestratorApiException>(() => new Generated.OrchestratorApiClient(_api.Client(ApiRoles.Viewer))
            .StartMigrationAsync(new Generated.StartMigrationRequest { VmId = "vm-http-viewer", SourceHost = "e2e-a", TargetHost = "e2e-b", Hypervisor = "sim" }));

        invalid.StatusCode.ShouldBe(400);
        invalid.Result.Errors["vmId"].ShouldHaveSingleItem().ShouldStartWith("VmId 'vm http' is not a valid name");
        missing.StatusCode.ShouldBe(404);
        (missing.Result.Title, missing.Result.Detail).ShouldBe(("No such migration.", $"No migration {unknown} is known."));
        forbidden.StatusCode.ShouldBe(403);
    }

    /// <summary>Issue 17: the curl walkthrough that docs/integrate.md quotes runs as written against a real serve.</summary>
    [Fact]
    public async Task Should_walk_through_the_api_as_the_curl_example_does()
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(CheckedInFile.RepositoryRoot(), "examples", "curl", "walkthrough.sh"));
        start.Environment["ORCHESTRATOR_API"] = _api.Address.ToString();
        start.Environment["ORCHESTRATOR_API_KEY"] = ApiServer.Keys[ApiRoles.Service];
        (start.Environment["VM"], start.Environment["SOURCE_HOST"], start.Environment["TARGET_HOST"]) = ("vm-http-curl", "e2e-a", "e2e-b");
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);

        var printed = await output + await error;
        process.ExitCode.ShouldBe(0, printed);
        printed.ShouldContain("state: Completed");
        printed.ShouldContain("\"vmId\":\"vm-http-curl\"");
        printed.ShouldContain("\"type\":\"MigrationRequested\"");
        printed.ShouldContain("SourceHost 'host a' is not a valid name");
        printed.ShouldContain("it belongs in 'policy.maxDowntimeMs'");
        // What docs/integrate.md quotes of it is in it, line for line.
        var script = CheckedInFile.Read("examples/curl/walkthrough.sh").Split('\n').Select(line => line.Trim()).ToHashSet();
        var guide = CheckedInFile.Read("docs/integrate.md");
        var quoted = System.Text.RegularExpressions.Regex.Matches(guide[guide.IndexOf("## Over HTTP", StringComparison.Ordinal)..], "```bash\n(.*?)```",
            System.Text.RegularExpressions.RegexOptions.Singleline).SelectMany(block => block.Groups[1].Value.Split('\n')).Select(line => line.Trim())
            .Where(line => line.Length > 0).ToList();
        quoted.Count.ShouldBeGreaterThan(4);
        quoted.Where(line => !script.Contains(line)).ShouldBeEmpty("docs/integrate.md quotes lines examples/curl/walkthrough.sh does not have");
    }

    static string Indented(string json) =>
        JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    /// <summary>The summary, or null while the accepted command has not reached the workflow yet (404).</summary>
    static async Task<MigrationSummary?> Summary(HttpClient client, Guid id)
    {
        var response = await client.GetAsync($"/api/migrations/{id}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<MigrationSummary>();
    }

    static async Task<HttpStatusCode> Send(HttpClient client, string method, string path, string? body)
    {
        using (client)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json(body) };
            return (await client.SendAsync(request)).StatusCode;
        }
    }

    /// <summary>Issue 15: a number rewritten past its type's range is a history that was altered (409, the event named), not a 500.</summary>
    [Fact]
    public async Task Should_answer_a_replay_of_a_rewritten_history_with_the_altered_event_not_a_500()
    {
        var id = Guid.NewGuid();
        await using (var store = DocumentStore.For(options => Roles.Configure(options, orchestrator.Settings)))
        await using (var session = store.LightweightSession())
        {
            var at = DateTimeOffset.UtcNow;
            session.Events.StartStream(id, new MigrationRequested(id, "vm-http-tampered", "e2e-a", "e2e-b", HypervisorKinds.Sim,
                MigrationStrategies.PreCopy, new MigrationPolicy(), "auditor-test", at), new PreCopyRoundCompleted(id, 1, 4L << 30, 512, 10, 100, 5.12, at));
            await session.SaveChangesAsync();
        }
        await using (var connection = new NpgsqlConnection(orchestrator.Settings.Postgres))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"update {orchestrator.Settings.Schema}.mt_events "
                + "set data = jsonb_set(data, '{BytesTransferred}', '4294967296.0000001') where stream_id = @id and version = 2", connection);
            command.Parameters.AddWithValue("id", id);
            (await command.ExecuteNonQueryAsync()).ShouldBe(1);
        }
        using var client = _api.Client(ApiRoles.Auditor);

        var response = await client.GetAsync($"/api/migrations/{id}/replay");

        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Conflict, body);
        body.ShouldContain("at event 2");
        body.ShouldContain("4294967296.0000001");
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Orchestrator.Api;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_operators_read_the_fleet_dashboards(RabbitMqOrchestrator orchestrator) : IAsyncLifetime
{
    ApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await ApiServer.StartAsync(orchestrator.Settings);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Should_push_each_change_of_a_summary_once_on_the_live_stream()
    {
        using var viewer = _api.Client(ApiRoles.Viewer);
        viewer.Timeout = Timeout.InfiniteTimeSpan;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await viewer.GetAsync("/api/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        (await lines.ReadLineAsync(timeout.Token)).ShouldBe(": stream open");

        using var operatorClient = _api.Client(ApiRoles.Operator);
        var started = await operatorClient.PostAsync("/api/migrations", new StringContent(
            """{"vmId":"vm-http-stream","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"}""", Encoding.UTF8, "application/json"));
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("migrationId").GetGuid();

        // Every summary of the migration the stream pushes, until four ticks after the one that says it completed.
        var pushed = new List<(string State, long Version)>();
        var ticksAfterTheEnd = -1;
        while (ticksAfterTheEnd < 4 && await lines.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == ": tick" && ticksAfterTheEnd >= 0)
                ticksAfterTheEnd++;
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
                continue;
            var data = JsonDocument.Parse(line["data: ".Length..]).RootElement;
            if (data.TryGetProperty("id", out var summaryId) && summaryId.GetGuid() == id)
            {
                pushed.Add((data.GetProperty("state").GetString()!, data.GetProperty("lastEventVersion").GetInt64()));
                if (pushed[^1].State == MigrationStates.Completed && ticksAfterTheEnd < 0)
                    ticksAfterTheEnd = 0;
            }
        }

        pushed.Count(p => p.State == MigrationStates.Completed).ShouldBe(1, string.Join(", ", pushed));
        pushed.ShouldBe(pushed.Distinct().ToList(), "no change pushed twice");
    }

    [Fact]
    public async Task Should_show_a_finished_migration_in_the_host_load_and_the_statistics_and_not_on_the_attention_queue()
    {
        using var operatorClient = _api.Client(ApiRoles.Operator);
        var started = await operatorClient.PostAsync("/api/migrations", new StringContent(
            """{"vmId":"vm-http-dashboard","sourceHost":"e2e-b","targetHost":"e2e-a","hypervisor":"sim"}""", Encoding.UTF8, "application/json"));
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("migrationId").GetGuid();
        (await orchestrator.WaitForEnd(id))!.State.ShouldBe(MigrationStates.Completed);
        using var viewer = _api.Client(ApiRoles.Viewer);

        // The host load is asynchronous: it shows the migration once the daemon has seen its last event.
        var host = await Eventually.Get(() => HostLoad(viewer, "e2e-b"),
            h => h is { } load && load.GetProperty("totalOutbound").GetInt32() >= 1
                 && load.GetProperty("migrations").EnumerateArray().All(m => m.GetProperty("migrationId").GetGuid() != id),
            "host e2e-b to count the finished migration");
        host!.Value.GetProperty("id").GetString().ShouldBe("e2e-b");
        var hosts = await viewer.GetFromJsonAsync<JsonElement[]>("/api/hosts");
        hosts!.Select(h => h.GetProperty("id").GetString()).ShouldContain("e2e-a");

        var statistics = await viewer.GetFromJsonAsync<JsonElement>("/api/statistics?hypervisor=sim");
        statistics.GetProperty("states").GetProperty(MigrationStates.Completed).GetInt32().ShouldBeGreaterThanOrEqualTo(1);
        var all = statistics.GetProperty("completed").EnumerateArray()
            .Single(c => c.GetProperty("hypervisor").ValueKind == JsonValueKind.Null && c.GetProperty("strategy").ValueKind == JsonValueKind.Null);
        all.GetProperty("downtimeP50Ms").GetDouble().ShouldBeGreaterThan(0);
        all.GetProperty("secondsPerGiB").GetDouble().ShouldBeGreaterThan(0);

        var attention = await viewer.GetFromJsonAsync<JsonElement[]>("/api/attention");
        attention!.Select(a => a.GetProperty("migrationId").GetGuid()).ShouldNotContain(id);
    }

    /// <summary>The host's load, or null while the daemon has not seen its first migration yet (404).</summary>
    static async Task<JsonElement?> HostLoad(HttpClient client, string name)
    {
        var response = await client.GetAsync($"/api/hosts/{name}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Theory]
    [InlineData("/api/statistics?hypervisor=vmware", "hypervisor")]
    [InlineData("/api/statistics?strategy=teleport", "strategy")]
    [InlineData("/api/statistics?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until")]
    [InlineData("/api/statistics?since=yesterday", "since")]
    [InlineData("/api/attention?stuckAfterSeconds=0", "stuckAfterSeconds")]
    public async Task Should_refuse_a_bad_filter_with_problem_details(string path, string field)
    {
        using var viewer = _api.Client(ApiRoles.Viewer);

        var response = await viewer.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadAsStringAsync()).ShouldContain(field);
    }

    [Fact]
    public async Task Should_answer_404_with_problem_details_for_an_unknown_host()
    {
        using var viewer = _api.Client(ApiRoles.Viewer);

        var response = await viewer.GetAsync("/api/hosts/no-such-host");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldContain("no-such-host");
    }

    [Fact]
    public async Task Should_describe_the_dashboards_in_the_openapi_document()
    {
        using var viewer = _api.Client(ApiRoles.Viewer);

        var document = await viewer.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/hosts", "/api/hosts/{name}", "/api/statistics", "/api/attention" })
            paths.TryGetProperty(path, out _).ShouldBeTrue(path);
        paths.GetProperty("/api/statistics").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()).ShouldBe(["hypervisor", "strategy", "since", "until"], ignoreOrder: true);
    }
}

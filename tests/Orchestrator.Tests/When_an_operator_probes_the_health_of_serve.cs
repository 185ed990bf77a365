using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orchestrator.Api;

namespace Orchestrator.Tests;

/// <summary>
/// Readiness tells the truth: <c>/health/ready</c> answers 503, naming PostgreSQL, within seconds of the database
/// stopping, and 200 again once it is back, while <c>/health/live</c> stays 200 (the process itself is fine). serve runs as
/// a real process on a PostgreSQL of the test's own. Meanwhile the API answers 503 with Retry-After at once, reads and
/// commands alike, and accepts the command again once the database is back.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_an_operator_probes_the_health_of_serve : IAsyncLifetime
{
    const string OperatorKey = "key-operator-health";
    RabbitVhost _vhost = null!;
    PrivateService _postgres = null!;

    public async ValueTask InitializeAsync()
    {
        _postgres = await PrivateService.StartPostgres();
        _vhost = await RabbitVhost.Create("health");
    }

    public async ValueTask DisposeAsync()
    {
        await _vhost.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    Dictionary<string, string> Environment() => new()
    {
        ["ConnectionStrings__Postgres"] = _postgres.ConnectionString,
        ["ConnectionStrings__RabbitMq"] = _vhost.ConnectionString,
        ["Orchestrator__Schema"] = "health",
        ["Api__Clients__0__Name"] = "health-operator",
        ["Api__Clients__0__Key"] = OperatorKey,
        ["Api__Clients__0__Roles__0"] = ApiRoles.Operator,
    };

    [Fact]
    public async Task Should_answer_503_with_retry_after_while_postgresql_is_away_and_accept_again_after()
    {
        var port = PrivateService.FreePort();
        using var serve = OrchestratorProcess.Start(Environment(), "serve", "--urls", $"http://127.0.0.1:{port}");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey);
        await Eventually.Get(() => Probe(client, "/health/ready"), ready => ready.Status == HttpStatusCode.OK, "serve to be ready", TimeSpan.FromSeconds(90));

        await _postgres.Stop();
        var clock = Stopwatch.StartNew();
        using var refused = await client.PostAsync("/api/migrations", StartBody("vm-db-away"));
        var elapsed = clock.Elapsed;
        var refusal = await refused.Content.ReadAsStringAsync();
        using var read = await client.GetAsync("/api/migrations");
        await _postgres.Start();

        refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, refusal);
        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        refused.Headers.RetryAfter.ShouldNotBeNull().Delta.ShouldBe(TimeSpan.FromSeconds(StoreUnavailableExceptionHandler.RetryAfterSeconds));
        JsonDocument.Parse(refusal).RootElement.GetProperty("title").GetString().ShouldBe("The event store is unreachable.");
        read.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        // Once the database is back, the same request is accepted (after the pool has dropped its dead connections).
        var accepted = await Eventually.Get(async () =>
        {
            using var response = await client.PostAsync("/api/migrations", StartBody("vm-db-back"));
            return response.StatusCode;
        }, status => status != HttpStatusCode.ServiceUnavailable, "the API to accept again", TimeSpan.FromSeconds(30));
        accepted.ShouldBe(HttpStatusCode.Accepted);
    }

    static StringContent StartBody(string vm) =>
        new($$"""{"migrationId":"{{Guid.NewGuid()}}","vmId":"{{vm}}","sourceHost":"db-a","targetHost":"db-b","hypervisor":"sim"}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task Should_turn_unready_while_postgresql_is_away_and_ready_again_after()
    {
        var port = PrivateService.FreePort();
using var serve = OrchestratorProcess.Start(Environment(), "serve", "--urls", $"http://127.0.0.1:{port}");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.Get(() => Probe(client, "/health/ready"), ready => ready.Status == HttpStatusCode.OK, "serve to be ready", TimeSpan.FromSeconds(90));

        await _postgres.Stop();
        var unready = await Eventually.Get(() => Probe(client, "/health/ready"), ready => ready.Status == HttpStatusCode.ServiceUnavailable,
            "readiness to see the database gone", TimeSpan.FromSeconds(10));
        var live = await Probe(client, "/health/live");
        await _postgres.Start();

        unready.Checks.ShouldContainKeyAndValue("postgresql", "Unhealthy", unready.Body);
        live.Status.ShouldBe(HttpStatusCode.OK);
        var ready = await Eventually.Get(() => Probe(client, "/health/ready"), ready => ready.Status == HttpStatusCode.OK,
            "readiness to see the database back", TimeSpan.FromSeconds(30));
        ready.Checks.ShouldContainKeyAndValue("postgresql", "Healthy", ready.Body);
        ready.Checks.Keys.ShouldContain(name => name != "postgresql", ready.Body);
    }

    static async Task<(HttpStatusCode Status, Dictionary<string, string> Checks, string Body)> Probe(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks").EnumerateArray()
                .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString()!);
            return (response.StatusCode, checks, body);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            // Not listening yet.
            return (0, [], exception.Message);
        }
    }
}

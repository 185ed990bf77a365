using System.Net;
using System.Text.Json;

namespace Orchestrator.Tests;

/// <summary>
/// Readiness tells the truth: <c>/health/ready</c> answers 503, naming PostgreSQL, within seconds of the database
/// stopping, and 200 again once it is back, while <c>/health/live</c> stays 200 (the process itself is fine). serve runs as
/// a real process on a PostgreSQL of the test's own.
/// </summary>
[Trait("Category", "Chaos")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_an_operator_probes_the_health_of_serve : IAsyncLifetime
{
    readonly string _vhost = $"health-{Guid.NewGuid():N}"[..20];
    PrivateService _postgres = null!;

    public async ValueTask InitializeAsync()
    {
        _postgres = await PrivateService.StartPostgres();
        await InfraScripts.Run("vhost.sh", new Dictionary<string, string>(), "create", _vhost);
    }

    public async ValueTask DisposeAsync()
    {
        await InfraScripts.Run("vhost.sh", new Dictionary<string, string>(), "delete", _vhost);
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task Should_turn_unready_while_postgresql_is_away_and_ready_again_after()
    {
        var port = PrivateService.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = _postgres.ConnectionString,
            ["ConnectionStrings__RabbitMq"] = new UriBuilder(TestServices.RabbitMq) { Path = "/" + _vhost }.Uri.ToString(),
            ["Orchestrator__Schema"] = "health",
        };
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", $"http://127.0.0.1:{port}");
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

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// The API never hangs on the broker: with RabbitMQ stopped, <c>POST /api/migrations</c> is answered 202 within a second
/// (the command is stored in the outbox), and the migration completes once the broker is back. serve and a sim worker
/// run as real processes on a RabbitMQ of the test's own. A service that follows orchestrator.events on a durable queue
/// gets every CloudEvent of both migrations, in order, across the outage.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_rabbitmq_goes_away_while_a_client_posts : IAsyncLifetime
{
    const string OperatorKey = "key-operator-rabbit-outage";
    readonly TestSchema _schema = TestSchema.Create("mqoutage");
    PrivateService _rabbit = null!;

    public async ValueTask InitializeAsync() => _rabbit = await PrivateService.StartRabbitMq();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _rabbit.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_answer_within_a_second_and_complete_the_migration_when_the_broker_is_back()
    {
        var port = PrivateService.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = TestServices.Postgres,
            ["ConnectionStrings__RabbitMq"] = _rabbit.ConnectionString,
            ["Orchestrator__Schema"] = _schema.Name,
            ["Api__Clients__0__Name"] = "outage-operator",
            ["Api__Clients__0__Key"] = OperatorKey,
            ["Api__Clients__0__Roles__0"] = ApiRoles.Operator,
        };
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "mq-a", "--host", "mq-b");
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", $"http://127.0.0.1:{port}");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey);
        var follower = $"mq-outage-follower-{Guid.NewGuid():N}";
        await using (var amqp = await PlainAmqpClient.ConnectAsync(_rabbit.ConnectionString))
        {
            // The bus starts before the HTTP listener: the queues alone do not say serve answers yet.
            await Eventually.Get(async () => await amqp.QueueExists(QueueNames.StartMigration) && await amqp.QueueExists(QueueNames.Worker("sim", "mq-b"))
                    && await amqp.ExchangeExists(PublicContract.EventsExchange) && await HttpProbe.Status(client, "/health/live") == HttpStatusCode.OK,
                up => up, "the orchestrator and the worker to start", TimeSpan.FromSeconds(60));
            await amqp.DeclareDurableQueue(follower, PublicContract.EventsExchange, "migration.#");
        }
        var before = await Start(client, "vm-before-outage");
        await Eventually.Get(() => State(client, before.Id), state => state == MigrationStates.Completed, "a migration before the outage");

        await _rabbit.Stop();
        var during = await Start(client, "vm-during-outage");
        await _rabbit.Start();

        during.Status.ShouldBe(HttpStatusCode.Accepted, during.Body);
        during.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1), during.Body);
        try
        {
            await Eventually.Get(() => State(client, during.Id), state => state == MigrationStates.Completed,
                "the migration posted during the outage to complete", TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException($"{timeout.Message}\n--- serve ---\n{Tail(serve.Output)}", timeout);
        }

        await using var after = await PlainAmqpClient.ConnectAsync(_rabbit.ConnectionString);
        var cloudEvents = new List<JsonNode>();
        await Eventually.Get(async () =>
            {
                cloudEvents.AddRange((await after.Take(follower)).Select(m => JsonNode.Parse(m.Body)!));
                return cloudEvents;
            }, events => new[] { before.Id, during.Id }.All(id => events.Any(e => Is(e, id, "orchestrator.migration.completed.v1"))
                && events.Any(e => Is(e, id, "orchestrator.migration.state-changed.v1") && e["data"]!["toState"]!.GetValue<string>() == MigrationStates.Completed)),
            "both completions on orchestrator.events", TimeSpan.FromSeconds(60));
        foreach (var id in new[] { before.Id, during.Id })
        {
            // At least once: a repeat keeps its id. Once each, the state changes form one unbroken chain.
            var mine = cloudEvents.Where(e => e["subject"]?.GetValue<string>() == id.ToString()).DistinctBy(e => e["id"]!.GetValue<string>()).ToList();
            mine[0]["type"]!.GetValue<string>().ShouldBe("orchestrator.migration.requested.v1");
            var changes = mine.Where(e => e["type"]!.GetValue<string>() == "orchestrator.migration.state-changed.v1").Select(e => e["data"]!).ToList();
            changes[0]["fromState"].ShouldBeNull();
            for (var i = 1; i < changes.Count; i++)
                changes[i]["fromState"]!.GetValue<string>().ShouldBe(changes[i - 1]["toState"]!.GetValue<string>());
            changes[^1]["toState"]!.GetValue<string>().ShouldBe(MigrationStates.Completed);
        }
    }

    static bool Is(JsonNode cloudEvent, Guid id, string type) =>
        cloudEvent["subject"]?.GetValue<string>() == id.ToString() && cloudEvent["type"]!.GetValue<string>() == type;

    static async Task<(Guid Id, HttpStatusCode Status, TimeSpan Elapsed, string Body)> Start(HttpClient client, string vm)
    {
        var body = $$"""{"vmId":"{{vm}}","sourceHost":"mq-a","targetHost":"mq-b","hypervisor":"sim"}""";
        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsync("/api/migrations", new StringContent(body, Encoding.UTF8, "application/json"));
        var elapsed = clock.Elapsed;
        var text = await response.Content.ReadAsStringAsync();
        var id = response.IsSuccessStatusCode ? JsonDocument.Parse(text).RootElement.GetProperty("migrationId").GetGuid() : Guid.Empty;
        return (id, response.StatusCode, elapsed, text);
    }

    static async Task<string?> State(HttpClient client, Guid id)
    {
        using var response = await client.GetAsync($"/api/migrations/{id}");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<MigrationSummary>())?.State : null;
    }

    static string Tail(string output) => output.Length > 6000 ? output[^6000..] : output;
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// Issue 17: a service without MassTransit binds its own queue to orchestrator.events before it starts a migration, and
/// reads the migration's integration events as CloudEvents (structured mode), in order. Every message captured on the bus
/// during the run, the command sent, the CloudEvents and the MassTransit events alike, validates against its published schema.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_a_service_follows_migrations_on_orchestrator_events(RabbitMqOrchestrator orchestrator)
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Should_see_the_cloud_events_of_its_migration_in_order_each_valid_against_its_schema()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var cloudEvents = await client.Follow(PublicContract.EventsExchange);
        var envelopes = new Dictionary<string, List<string>>();
        foreach (var @event in PublicContract.Events)
            envelopes[@event.Type.Name] = await client.Subscribe($"Orchestrator.Contracts:{@event.Type.Name}");
        var id = Guid.NewGuid();
        var command = JsonSerializer.Serialize(new
        {
            migrationId = id, vmId = $"vm-ce-{id:N}"[..20], sourceHost = "e2e-a", targetHost = "e2e-b", hypervisor = HypervisorKinds.Sim,
            requestedBy = "placement-service", schemaVersion = 1,
        });
        PublishedSchemas.Problems(nameof(StartMigration), command).ShouldBeEmpty();

        await client.Publish(QueueNames.StartMigration, command);

        (await orchestrator.WaitForEnd(id))!.State.ShouldBe(MigrationStates.Completed);
        var mine = await Eventually.Get(() => Task.FromResult(Of(cloudEvents, id)),
            events => events.Any(e => e.Type == "orchestrator.migration.completed.v1")
                && events.Any(e => e.Type == "orchestrator.migration.state-changed.v1" && Data(e)["toState"]!.GetValue<string>() == MigrationStates.Completed),
            "the migration's CloudEvents up to its completion", Deadline);

        var problems = new List<string>();
        foreach (var delivered in mine)
        {
            var @event = PublicContract.Events.Single(e => e.CloudEventType == delivered.Type);
            delivered.ContentType.ShouldBe("application/cloudevents+json");
            delivered.RoutingKey.ShouldBe(@event.Name);
            delivered.Headers["schemaVersion"].ShouldBe(@event.SchemaVersion);
            delivered.Headers["cloudEvents_type"].ShouldBe(@event.CloudEventType);
            var envelope = JsonNode.Parse(delivered.Body)!;
            envelope["type"]!.GetValue<string>().ShouldBe(@event.CloudEventType);
            envelope["id"]!.GetValue<string>().ShouldBe(delivered.MessageId);
            problems.AddRange(PublishedSchemas.CloudEventProblems(@event, delivered.Body).Select(p => $"{@event.Name}: {p}"));
        }
        problems.ShouldBeEmpty();

        var types = mine.Select(e => PublicContract.Events.Single(p => p.CloudEventType == e.Type).Name).ToList();
        types[0].ShouldBe("migration.requested");
        types.ShouldContain("migration.admitted");
        types.Count(t => t == "migration.completed").ShouldBe(1);
        mine.Select(e => e.MessageId).ShouldBeUnique();
        // In order: each state change leaves the state the previous one entered, and the completion comes after CleaningUp.
        var changes = mine.Where(e => e.Type == "orchestrator.migration.state-changed.v1").Select(Data).ToList();
        for (var i = 1; i < changes.Count; i++)
            changes[i]["fromState"]!.GetValue<string>().ShouldBe(changes[i - 1]["toState"]!.GetValue<string>(), string.Join(", ", types));
        types.IndexOf("migration.completed").ShouldBeGreaterThan(
            mine.FindIndex(e => e.Type == "orchestrator.migration.state-changed.v1" && Data(e)["toState"]!.GetValue<string>() == MigrationStates.CleaningUp));

        // The MassTransit envelopes of the same events: their message validates against the same schemas.
        var masstransit = new List<string>();
        foreach (var (name, bodies) in envelopes)
        {
            List<string> copy;
            lock (bodies)
                copy = [.. bodies];
            foreach (var body in copy.Where(b => b.Contains(id.ToString(), StringComparison.Ordinal)))
            {
                masstransit.Add(name);
                problems.AddRange(PublishedSchemas.Problems(name, JsonNode.Parse(body)!["message"]!.ToJsonString()).Select(p => $"{name}: {p}"));
            }
        }
        problems.ShouldBeEmpty();
        masstransit.Order().ShouldBe(types.Select(t => PublicContract.Events.Single(e => e.Name == t).Type.Name).Order());
    }

    static List<PlainAmqpClient.Delivered> Of(List<PlainAmqpClient.Delivered> received, Guid id)
    {
        lock (received)
            return [.. received.Where(e => JsonNode.Parse(e.Body)!["subject"]?.GetValue<string>() == id.ToString())];
    }

    static JsonNode Data(PlainAmqpClient.Delivered delivered) => JsonNode.Parse(delivered.Body)!["data"]!;
}

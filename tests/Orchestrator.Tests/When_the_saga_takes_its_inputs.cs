using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Tests;

/// <summary>
/// The saga's consumer asks the broker for <c>Saga:Concurrency</c> inputs at once, not MassTransit's default
/// (min(2 × cores, 16): 4 on a 2-core machine), which left its group commits with one transition each.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_the_saga_takes_its_inputs(RabbitMqOrchestrator orchestrator)
{
    [Fact]
    public async Task Should_have_the_broker_hand_it_as_many_at_once_as_its_concurrency()
    {
        var vhost = Uri.UnescapeDataString(new Uri(orchestrator.Settings.RabbitMq).AbsolutePath.TrimStart('/'));
        if (vhost.Length == 0)
            vhost = "/";

        // Each line: the queue a consumer reads and the prefetch RabbitMQ keeps for it.
        var consumers = await InfraScripts.Run("services.sh", new Dictionary<string, string>(), "rabbitmqctl", "list_consumers", "-q", "-p", vhost,
            "queue_name", "prefetch_count");
        var prefetch = consumers.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t', StringSplitOptions.TrimEntries))
            .Where(columns => columns.Length == 2 && columns[0] == QueueNames.MigrationSaga).Select(columns => columns[1]).ToList();

        prefetch.ShouldNotBeEmpty(consumers);
        prefetch.ShouldAllBe(count => count == $"{new SagaEndpointOptions().Concurrency}", consumers);
        new SagaEndpointOptions().Concurrency.ShouldBeGreaterThan(Math.Min(2 * Environment.ProcessorCount, 16));
    }
}

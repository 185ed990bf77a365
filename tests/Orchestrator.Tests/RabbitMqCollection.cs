namespace Orchestrator.Tests;

/// <summary>
/// The tests that share one orchestrator on the real RabbitMQ (<see cref="RabbitMqOrchestrator"/>) run one after another.
/// Only they belong here: a test with a vhost and a schema of its own (<see cref="ChaosRig"/>, <see cref="RabbitVhost"/>)
/// runs beside the others, two at a time. Holding those here too made this collection nine minutes of the test command.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqOrchestrator>
{
    public const string Name = "RabbitMQ";
}

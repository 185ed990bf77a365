namespace Orchestrator.Tests;

/// <summary>The tests that share one orchestrator on the real RabbitMQ run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqOrchestrator>
{
    public const string Name = "RabbitMQ";
}

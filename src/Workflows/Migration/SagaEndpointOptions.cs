namespace Orchestrator.Workflows.Migration;

/// <summary>The saga's receive endpoint (configuration section <c>Saga</c>).</summary>
public sealed class SagaEndpointOptions
{
    public const string Section = "Saga";

    /// <summary>
    /// How many inputs of different migrations are applied at once, and how many RabbitMQ hands over before the first is
    /// acknowledged (the prefetch). A transition spends most of its time waiting (its read, its commit, the broker's
    /// confirm of what it sends); more of them at once keep the processor busy and fill the group commits. MassTransit's
    /// default, min(2 × cores, 16), is 4 on a 2-core machine.
    /// </summary>
    public int Concurrency { get; set; } = 32;
}

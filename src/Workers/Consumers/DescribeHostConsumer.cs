using MassTransit;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>Answers a drain's question: what runs on this host, and how much room it has.</summary>
public sealed class DescribeHostConsumer(IHypervisorDriver driver) : IConsumer<DescribeHost>
{
    public async Task Consume(ConsumeContext<DescribeHost> context) =>
        await context.RespondAsync(await driver.DescribeHostAsync(context.Message.Host, context.CancellationToken));
}

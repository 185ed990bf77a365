using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>Changes a running transfer's limits; the orchestrator records its own decision, so success reports nothing.</summary>
public sealed class AdjustTransferConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<AdjustTransferConsumer> logger)
    : WorkerCommandConsumer<AdjustTransfer>(fence, logger)
{
    protected override string Step => MigrationSteps.Adjust;

    protected override async Task<object?> Run(ConsumeContext<AdjustTransfer> context)
    {
        await driver.AdjustAsync(context.Message, context.CancellationToken);
        return null;
    }
}

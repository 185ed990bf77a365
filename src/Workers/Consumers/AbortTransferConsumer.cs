using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

public sealed class AbortTransferConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<AbortTransferConsumer> logger)
    : WorkerCommandConsumer<AbortTransfer>(fence, logger)
{
    protected override string Step => MigrationSteps.AbortTransfer;

    protected override async Task<object?> Run(ConsumeContext<AbortTransfer> context)
    {
        await driver.AbortAsync(context.Message, context.CancellationToken);
        return new MigrationAborted(context.Message.MigrationId, context.Message.Host, DateTimeOffset.UtcNow);
    }
}

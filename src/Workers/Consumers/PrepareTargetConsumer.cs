using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

public sealed class PrepareTargetConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<PrepareTargetConsumer> logger)
    : WorkerCommandConsumer<PrepareTarget>(fence, logger)
{
    protected override string Step => MigrationSteps.PrepareTarget;

    protected override async Task<object?> Run(ConsumeContext<PrepareTarget> context)
    {
        var prepared = await driver.PrepareTargetAsync(context.Message, context.CancellationToken);
        return new TargetPrepared(context.Message.MigrationId, context.Message.TargetHost, context.Message.Epoch, DateTimeOffset.UtcNow,
            prepared.IncomingUri, prepared.DiskExportUri);
    }
}

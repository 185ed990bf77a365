using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

public sealed class DestroyTargetConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<DestroyTargetConsumer> logger)
    : WorkerCommandConsumer<DestroyTarget>(fence, logger)
{
    protected override string Step => MigrationSteps.DestroyTarget;

    protected override async Task<object?> Run(ConsumeContext<DestroyTarget> context)
    {
        await driver.DestroyTargetAsync(context.Message, context.CancellationToken);
        return new TargetDestroyed(context.Message.MigrationId, context.Message.Host, DateTimeOffset.UtcNow);
    }
}

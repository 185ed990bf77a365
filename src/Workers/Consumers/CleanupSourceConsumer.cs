using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

public sealed class CleanupSourceConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<CleanupSourceConsumer> logger)
    : WorkerCommandConsumer<CleanupSource>(fence, logger)
{
    protected override string Step => MigrationSteps.CleanupSource;

    protected override async Task<object?> Run(ConsumeContext<CleanupSource> context)
    {
        await driver.CleanupSourceAsync(context.Message, context.CancellationToken);
        return new SourceCleanedUp(context.Message.MigrationId, context.Message.Host, DateTimeOffset.UtcNow);
    }
}

using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

public sealed class CleanupSourceConsumer(IHypervisorDriver driver, ILogger<CleanupSourceConsumer> logger)
    : WorkerCommandConsumer<CleanupSource>(logger)
{
    protected override string Step => HypervisorSteps.CleanupSource;

    protected override Guid MigrationIdOf(CleanupSource command) => command.MigrationId;

    protected override async Task<object?> Run(ConsumeContext<CleanupSource> context)
    {
        await driver.CleanupSourceAsync(context.Message, context.CancellationToken);
        return new SourceCleanedUp(context.Message.MigrationId, context.Message.Host, DateTimeOffset.UtcNow);
    }
}

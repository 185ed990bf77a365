using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>Asks the running transfer to switch to post-copy; the transfer itself reports <c>PostCopyStarted</c>.</summary>
public sealed class SwitchToPostCopyConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<SwitchToPostCopyConsumer> logger)
    : WorkerCommandConsumer<SwitchToPostCopy>(fence, logger)
{
    protected override string Step => MigrationSteps.SwitchToPostCopy;

    protected override async Task<object?> Run(ConsumeContext<SwitchToPostCopy> context)
    {
        await driver.SwitchToPostCopyAsync(context.Message, context.CancellationToken);
        return null;
    }
}

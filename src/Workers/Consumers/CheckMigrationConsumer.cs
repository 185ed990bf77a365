using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>Runs the pre-flight check and reports its verdict, with the prediction.</summary>
public sealed class CheckMigrationConsumer(IHypervisorDriver driver, EpochFence fence, ILogger<CheckMigrationConsumer> logger)
    : WorkerCommandConsumer<CheckMigration>(fence, logger)
{
    protected override string Step => MigrationSteps.Preflight;

    protected override async Task<object?> Run(ConsumeContext<CheckMigration> context)
    {
        var verdict = await driver.PreflightAsync(context.Message, context.CancellationToken);
        return verdict.Passed
            ? new PreflightPassed(context.Message.MigrationId, verdict.MemoryBytes, verdict.PredictedDowntimeMs ?? 0, DateTimeOffset.UtcNow,
                verdict.VmDefinition, verdict.DiskBytes)
            : new PreflightFailed(context.Message.MigrationId, verdict.Problem!, verdict.PredictedDowntimeMs, DateTimeOffset.UtcNow);
    }
}

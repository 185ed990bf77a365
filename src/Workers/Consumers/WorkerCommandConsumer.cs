using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>
/// The shape every worker consumer shares: run one hypervisor step; report success with the step's own event, failure
/// with <see cref="MigrationStepFailed"/>. Reports go straight to the migration saga.
/// </summary>
public abstract class WorkerCommandConsumer<TCommand>(EpochFence fence, ILogger logger) : IConsumer<TCommand>
    where TCommand : class, IWorkerCommand
{
    static readonly Uri SagaAddress = new($"queue:{QueueNames.MigrationSaga}");

    protected abstract string Step { get; }

    /// <summary>Runs the step and returns the report of its success, or null when there is nothing to report.</summary>
    protected abstract Task<object?> Run(ConsumeContext<TCommand> context);

    public async Task Consume(ConsumeContext<TCommand> context)
    {
        var migrationId = context.Message.MigrationId;
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["MigrationId"] = migrationId });
        if (!fence.Admit(migrationId, context.Message.Epoch))
        {
            // Fencing: a superseded incarnation of the migration must not touch the VM. Nobody waits for an answer.
            logger.LogWarning("Refused {Step}: epoch {Epoch} is stale for this migration", Step, context.Message.Epoch);
            return;
        }
        object? report;
        try
        {
            report = await Run(context);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(exception, "Step {Step} failed", Step);
            var runningOn = (exception as HypervisorStepException)?.VmRunningOn;
            report = new MigrationStepFailed(migrationId, Step, exception.Message, runningOn, DateTimeOffset.UtcNow);
        }

        if (report is not null)
            await Report(context, migrationId, report);
    }

    /// <summary>Sends a report to the saga, correlated with its migration so the saga endpoint keeps a migration's reports in order.</summary>
    protected static Task Report(ConsumeContext context, Guid migrationId, object report) =>
        context.Send(SagaAddress, report, report.GetType(), Pipe.Execute<SendContext>(send => send.CorrelationId = migrationId));
}

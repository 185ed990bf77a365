using Marten;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// On start, asks every in-flight migration to check itself against the hosts (<see cref="ReconcileMigration"/>): after a
/// crash, a report may have been lost between a worker and the saga. Migrations the hosts agree with are left alone.
/// Registered after the bus, so the bus has started when this runs.
/// </summary>
public sealed class InFlightReconciler(IDocumentStore store, IBus bus, ILogger<InFlightReconciler> logger) : BackgroundService
{
    /// <summary>The states in which some host has been touched and the workflow waits for a worker.</summary>
    public static readonly string[] InFlight =
    [
        nameof(MigrationStateMachine.Preparing), nameof(MigrationStateMachine.PreCopying), nameof(MigrationStateMachine.SwitchingOver),
        nameof(MigrationStateMachine.PostCopying), nameof(MigrationStateMachine.CleaningUp), nameof(MigrationStateMachine.RollingBack),
        nameof(MigrationStateMachine.DestroyingTarget),
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var session = store.QuerySession();
            var ids = await session.Query<MigrationState>().Where(m => m.CurrentState.IsOneOf(InFlight)).Select(m => m.CorrelationId)
                .ToListAsync(stoppingToken);
            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{QueueNames.MigrationSaga}"));
            foreach (var id in ids)
                await endpoint.Send(new ReconcileMigration(id, "an orchestrator instance started"),
                    Pipe.Execute<SendContext>(send => send.CorrelationId = id), stoppingToken);
            if (ids.Count > 0)
                logger.LogInformation("Asked {Count} in-flight migrations to check themselves against their hosts", ids.Count);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // Not fatal: every in-flight migration still has its own timeout.
            logger.LogError(exception, "Reconciling in-flight migrations on start failed");
        }
    }
}

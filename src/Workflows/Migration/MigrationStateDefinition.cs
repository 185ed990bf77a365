using JasperFx.Events;
using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>The saga endpoint: retries that make optimistic concurrency work, and messages only after success.</summary>
public sealed class MigrationStateDefinition : SagaDefinition<MigrationState>
{
    public MigrationStateDefinition() => EndpointName = QueueNames.MigrationSaga;

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<MigrationState> sagaConfigurator, IRegistrationContext context)
    {
        // Commands reach the saga through the public intake endpoints and worker reports are sent here directly,
        // so the endpoint binds to no message-type exchange.
        endpointConfigurator.ConfigureConsumeTopology = false;

        // Two deliveries racing on one migration: the loser's commit fails and it runs again on the new state.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<JasperFx.ConcurrencyException>();
            r.Handle<EventStreamUnexpectedMaxEventIdException>();
            r.Handle<JasperFx.DocumentAlreadyExistsException>();
            r.Intervals(10, 50, 100, 250, 500, 1000, 2000);
        });
        endpointConfigurator.UseInMemoryOutbox(context);

        // One migration's messages are applied one at a time, in the order they arrived; different migrations in parallel.
        var partition = endpointConfigurator.CreatePartitioner(Math.Max(8, Environment.ProcessorCount * 4));
        void Serialize<T>(Func<T, Guid> migrationId)
            where T : class =>
            sagaConfigurator.Message<T>(m => m.UsePartitioner(partition, c => migrationId(c.Message)));

        Serialize<StartMigration>(m => m.MigrationId);
        Serialize<CancelMigration>(m => m.MigrationId);
        Serialize<TargetPrepared>(m => m.MigrationId);
        Serialize<PreCopyRoundCompleted>(m => m.MigrationId);
        Serialize<StopAndCopyCompleted>(m => m.MigrationId);
        Serialize<SwitchoverCompleted>(m => m.MigrationId);
        Serialize<SourceCleanedUp>(m => m.MigrationId);
        Serialize<MigrationStepFailed>(m => m.MigrationId);
        Serialize<MigrationAborted>(m => m.MigrationId);
        Serialize<TargetDestroyed>(m => m.MigrationId);
    }
}

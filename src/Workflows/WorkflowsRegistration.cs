using JasperFx.Events;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Drain;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Liveness;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Persistence;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows;

/// <summary>How the executable composes this module: its bus parts and its Marten schema.</summary>
public static class WorkflowsRegistration
{
    public static void AddMigrationWorkflows(this IBusRegistrationConfigurator bus)
    {
        bus.AddSagaStateMachine<MigrationStateMachine, MigrationState, MigrationStateDefinition>().MartenRepository();
        bus.AddHostedService<TimerDispatcher>();
        bus.AddHostedService<OutboxDispatcher>();
        bus.AddHostedService<InFlightReconciler>();
        bus.AddSingleton<DeliveredOutboxMessages>();
        bus.AddSingleton<QueueStandings>();
        bus.AddSingleton<GroupCommitter>();
        bus.AddSingleton<SagaBacklog>();
        bus.AddConsumer<StartMigrationIntake>(typeof(StartMigrationIntakeDefinition));
        bus.AddConsumer<CancelMigrationIntake>(typeof(CancelMigrationIntakeDefinition));
        bus.AddConsumer<ForceCompleteMigrationIntake>(typeof(ForceCompleteMigrationIntakeDefinition));
        bus.AddConsumer<RecoverMigrationIntake>(typeof(RecoverMigrationIntakeDefinition));
        bus.AddConsumer<DrainHostConsumer>(typeof(DrainHostDefinition));
        bus.AddConsumer<HostHeartbeatConsumer>(typeof(HostHeartbeatDefinition));
    }

    public static void ConfigureWorkflows(this StoreOptions options)
    {
        options.Schema.For<MigrationState>().Identity(x => x.CorrelationId).UseOptimisticConcurrency(true);
        options.Schema.For<VmLease>().Identity(x => x.Id);
        // Each admission counts the active slots leaving its source and entering its target: indexed, those counts read a
        // handful of rows instead of every slot in flight (10,000 at scale: 2 ms each, under the admission lock).
        options.Schema.For<AdmissionSlot>().Identity(x => x.Id).Duplicate(x => x.Active).Index(x => x.SourceHost).Index(x => x.TargetHost);
        // due_at is a real column, indexed, so the dispatcher finds due timers without reading every one.
        options.Schema.For<MigrationTimer>().Identity(x => x.Id).Duplicate(x => x.DueAt);
        options.Schema.For<OutboxMessage>().Identity(x => x.Id).Duplicate(x => x.CreatedAt);
        options.Schema.For<InboxRecord>().Identity(x => x.Id).Duplicate(x => x.ProcessedAt);
        options.Schema.For<DeadLetter>().Identity(x => x.Id).Duplicate(x => x.SetAsideAt);
        options.Schema.For<TransferLiveness>().Identity(x => x.Id).Duplicate(x => x.SeenAt);
        options.Schema.For<VmBehaviourHistory>().Identity(x => x.Id);
        options.Events.StreamIdentity = StreamIdentity.AsGuid;
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Events.MetadataConfig.CausationIdEnabled = true;
        options.Events.MetadataConfig.HeadersEnabled = true;
    }

    sealed class StartMigrationIntakeDefinition() : PublicCommandDefinition<StartMigrationIntake, StartMigration>(QueueNames.StartMigration);

    sealed class CancelMigrationIntakeDefinition() : PublicCommandDefinition<CancelMigrationIntake, CancelMigration>(QueueNames.CancelMigration);

    sealed class ForceCompleteMigrationIntakeDefinition() : PublicCommandDefinition<ForceCompleteMigrationIntake, ForceCompleteMigration>(QueueNames.ForceCompleteMigration);

    sealed class DrainHostDefinition() : PublicCommandDefinition<DrainHostConsumer, DrainHost>(QueueNames.DrainHost);

    sealed class RecoverMigrationIntakeDefinition() : PublicCommandDefinition<RecoverMigrationIntake, RecoverMigration>(QueueNames.RecoverMigration);
}

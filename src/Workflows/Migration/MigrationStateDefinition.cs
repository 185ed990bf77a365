using JasperFx.Events;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Resilience;

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

        // Outermost: a message that fails for good once the retries below gave up is set aside and its migration told.
        endpointConfigurator.UseFilter(PoisonInputFilter.Create(context));
        // No Fault<T> is published for a message that failed here: nobody subscribes to them, and serializing one that
        // carries a Marten or Npgsql exception fails with a TypeLoadException ('MapEnum') that hid the real reason from the
        // _error queue and the dead letter alike.
        endpointConfigurator.PublishFaults = false;
        // The database or the broker away for a while: waited out, so an outage never decides a migration's outcome.
        endpointConfigurator.UseTransientFaultRetry(context);
        // Two deliveries racing on one migration: the loser's commit fails and it runs again on the new state.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<JasperFx.ConcurrencyException>();
            r.Handle<EventStreamUnexpectedMaxEventIdException>();
            r.Handle<JasperFx.DocumentAlreadyExistsException>();
            r.Handle<ReportOutOfOrderException>();
            r.Handle<Admission.AdmissionQueueChangedException>();
            // Randomised, growing intervals: contenders on one document (the admission ledger) spread out instead of
            // colliding again in lockstep.
            r.Exponential(30, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(20));
        });
        // A worker's numbered reports are applied in the order it made them (ReportOrder).
        sagaConfigurator.SagaMessage<DiskMirrorStarted>(m => m.UseFilter(new ReportOrder<DiskMirrorStarted>()));
        sagaConfigurator.SagaMessage<DiskMirrorProgress>(m => m.UseFilter(new ReportOrder<DiskMirrorProgress>()));
        sagaConfigurator.SagaMessage<DiskMirrorReady>(m => m.UseFilter(new ReportOrder<DiskMirrorReady>()));
        sagaConfigurator.SagaMessage<PreCopyRoundCompleted>(m => m.UseFilter(new ReportOrder<PreCopyRoundCompleted>()));
        sagaConfigurator.SagaMessage<StopAndCopyCompleted>(m => m.UseFilter(new ReportOrder<StopAndCopyCompleted>()));
        sagaConfigurator.SagaMessage<SwitchoverCompleted>(m => m.UseFilter(new ReportOrder<SwitchoverCompleted>()));
        sagaConfigurator.SagaMessage<PostCopyStarted>(m => m.UseFilter(new ReportOrder<PostCopyStarted>()));
        sagaConfigurator.SagaMessage<PostCopyRecovered>(m => m.UseFilter(new ReportOrder<PostCopyRecovered>()));
        sagaConfigurator.SagaMessage<PostCopyCompleted>(m => m.UseFilter(new ReportOrder<PostCopyCompleted>()));
        // No bus outbox here: the saga's messages go through its own transactional outbox (Workflows/Outbox).

        // Inputs of different migrations at once (SagaEndpointOptions), not MassTransit's min(2 × cores, 16).
        var concurrency = Math.Max(1, context.GetService<IOptions<SagaEndpointOptions>>()?.Value.Concurrency ?? new SagaEndpointOptions().Concurrency);
        endpointConfigurator.PrefetchCount = concurrency;
        endpointConfigurator.ConcurrentMessageLimit = concurrency;

        // One migration's messages are applied one at a time, in the order they arrive; different migrations in
        // parallel. Every sender sets the CorrelationId to the migration id (the intake, the workers), so the key is
        // known before the message type is, and one partition sees all of a migration's messages in arrival order.
        // Partitions well beyond the inputs in flight, so two migrations seldom wait for each other's partition.
        var partition = endpointConfigurator.CreatePartitioner(Math.Max(8, concurrency * 4));
        endpointConfigurator.UsePartitioner(partition, consumeContext => consumeContext.CorrelationId ?? Guid.Empty);
    }
}

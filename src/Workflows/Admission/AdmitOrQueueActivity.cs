using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Admission;

/// <summary>Takes a slot for the migration when the limits allow, else puts it in the queue with the reason.</summary>
public sealed class AdmitOrQueueActivity(IDocumentSession session, IOptions<AdmissionOptions> limits)
    : IStateMachineActivity<MigrationState, StartMigration>
{
    public async Task Execute(BehaviorContext<MigrationState, StartMigration> context, IBehavior<MigrationState, StartMigration> next)
    {
        var saga = context.Saga;
        var slot = new AdmissionSlot
        {
            Id = saga.CorrelationId, SourceHost = saga.SourceHost, TargetHost = saga.TargetHost,
            Priority = saga.Policy.Priority, RequestedAt = saga.RequestedAt, Deadline = saga.Deadline,
        };
        await AdmissionBook.Lock(session, context.CancellationToken);
        var blocker = await AdmissionBook.Blocker(session, slot, limits.Value, context.CancellationToken);
        slot.Active = blocker is null;
        // Insert: a redelivered start that got here twice fails on the second insert and retries into the saga's load.
        session.Insert(slot);
        if (blocker is not null)
        {
            var queued = new MigrationQueued(saga.CorrelationId, await AdmissionBook.PositionOf(session, slot, context.CancellationToken),
                blocker, DateTimeOffset.UtcNow);
            saga.Record(queued);
            saga.Publish(queued);
        }
        saga.Queued = blocker is not null;

        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, StartMigration, TException> context,
        IBehavior<MigrationState, StartMigration> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("admit-or-queue");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}

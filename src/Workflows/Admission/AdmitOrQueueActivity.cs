using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Admission;

/// <summary>
/// Takes a slot for the migration when the limits allow (<see cref="AdmissionBook.AdmitAlone"/>, in a short transaction
/// of its own), else puts it in the queue with the reason, in the transition's transaction under the admission lock.
/// </summary>
public sealed class AdmitOrQueueActivity(IDocumentSession session, IDocumentStore store, IOptions<AdmissionOptions> limits)
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
        if (await AdmissionBook.AdmitAlone(store, slot, limits.Value, context.CancellationToken))
        {
            saga.Queued = false;
            await next.Execute(context);
            return;
        }

        // Over a limit when it looked: decided again under the lock held to this transition's commit, since a release
        // may have freed a slot meanwhile, and a queued slot must commit with its migration.
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

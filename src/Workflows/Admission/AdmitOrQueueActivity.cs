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
        var ledger = await session.LoadAsync<AdmissionLedger>(AdmissionLedger.ClusterId, context.CancellationToken);
        if (ledger is null)
        {
            // The first migration ever creates the ledger; a racing second one fails on Insert and retries into Load.
            ledger = new AdmissionLedger();
            session.Insert(ledger);
        }
        else
            session.Update(ledger);

        var entry = new AdmissionEntry(saga.CorrelationId, saga.SourceHost, saga.TargetHost, saga.Policy.Priority ?? 0, saga.RequestedAt);
        var blocker = ledger.Blocker(entry, limits.Value);
        if (blocker is null)
            ledger.Active.Add(entry);
        else
        {
            ledger.Queue.Add(entry);
            saga.Record(new MigrationQueued(saga.CorrelationId, ledger.PositionOf(saga.CorrelationId), blocker, DateTimeOffset.UtcNow));
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

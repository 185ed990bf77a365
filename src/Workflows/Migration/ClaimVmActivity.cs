using Marten;
using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>Takes the VM's <see cref="VmLease"/> for this migration, or marks the migration rejected because another holds it.</summary>
public sealed class ClaimVmActivity(IDocumentSession session) : IStateMachineActivity<MigrationState, StartMigration>
{
    public async Task Execute(BehaviorContext<MigrationState, StartMigration> context, IBehavior<MigrationState, StartMigration> next)
    {
        var saga = context.Saga;
        var lease = await session.LoadAsync<VmLease>(saga.VmId, context.CancellationToken);
        if (lease is null)
            session.Insert(new VmLease { Id = saga.VmId, MigrationId = saga.CorrelationId, Since = DateTimeOffset.UtcNow });
        else if (lease.MigrationId != saga.CorrelationId)
        {
            saga.RejectionCode = RejectionCodes.VmBusy;
            saga.Reason = $"VM '{saga.VmId}' already has an active migration {lease.MigrationId}; "
                + "wait for it to end or cancel it first.";
        }

        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, StartMigration, TException> context,
        IBehavior<MigrationState, StartMigration> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("claim-vm");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}

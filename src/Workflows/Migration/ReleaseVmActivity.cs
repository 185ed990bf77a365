using Marten;
using MassTransit;

namespace Orchestrator.Workflows.Migration;

/// <summary>Gives up the migration's <see cref="VmLease"/> as it ends, in the same transaction as its last transition.</summary>
public sealed class ReleaseVmActivity(IDocumentSession session) : IStateMachineActivity<MigrationState>
{
    public Task Execute(BehaviorContext<MigrationState> context, IBehavior<MigrationState> next) =>
        ReleaseThen(context.Saga, context.CancellationToken, () => next.Execute(context));

    public Task Execute<T>(BehaviorContext<MigrationState, T> context, IBehavior<MigrationState, T> next)
        where T : class =>
        ReleaseThen(context.Saga, context.CancellationToken, () => next.Execute(context));

    async Task ReleaseThen(MigrationState saga, CancellationToken cancellationToken, Func<Task> next)
    {
        var lease = await session.LoadAsync<VmLease>(saga.VmId, cancellationToken);
        if (lease?.MigrationId == saga.CorrelationId)
            session.Delete(lease);
        await next();
    }

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, TException> context, IBehavior<MigrationState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<MigrationState, T, TException> context, IBehavior<MigrationState, T> next)
        where T : class
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("release-vm");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}

using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Admission;

/// <summary>
/// As a migration ends: gives up its VM lease and its slot (or queue place), and admits the queued migrations that
/// now fit, in the same transaction as its last transition. The slot's part waits for the commit
/// (<see cref="MigrationState.AtCommit"/>): admission's lock is then held from there to the commit only, not through the
/// rest of the transition (a stream read to learn the VM's behaviour, the events, the projections).
/// </summary>
public sealed class ReleaseActivity(IDocumentSession session, IOptions<AdmissionOptions> limits, IOptions<HostLinkOptions> links) : IStateMachineActivity<MigrationState>
{
    public Task Execute(BehaviorContext<MigrationState> context, IBehavior<MigrationState> next) =>
        ReleaseThen(context, () => next.Execute(context));

    public Task Execute<T>(BehaviorContext<MigrationState, T> context, IBehavior<MigrationState, T> next)
        where T : class =>
        ReleaseThen(context, () => next.Execute(context));

    async Task ReleaseThen(BehaviorContext<MigrationState> context, Func<Task> next)
    {
        var saga = context.Saga;
        // No VM named: a start set aside before it was stored (it may still hold a slot an earlier attempt took).
        var lease = saga.VmId.Length == 0 ? null : await session.LoadAsync<VmLease>(saga.VmId, context.CancellationToken);
        if (lease?.MigrationId == saga.CorrelationId)
            session.Delete(lease);

        saga.AtCommit(async (atCommit, cancellationToken) =>
            (await AdmissionBook.Release(atCommit, saga.CorrelationId, limits.Value, links.Value, cancellationToken)).Tell(saga));

        await next();
    }

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, TException> context, IBehavior<MigrationState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<MigrationState, T, TException> context, IBehavior<MigrationState, T> next)
        where T : class
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("release");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}

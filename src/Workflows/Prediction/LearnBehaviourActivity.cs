using Marten;
using MassTransit;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// As a migration ends: fits the VM's dirtying to this migration's pre-copy rounds (read from its stream) and adds it
/// to the VM's <see cref="VmBehaviourHistory"/>, in the same transaction as the last transition. A migration without a
/// round (rejected, post-copy from the start) teaches nothing.
/// </summary>
public sealed class LearnBehaviourActivity(IDocumentSession session) : IStateMachineActivity<MigrationState>
{
    public Task Execute(BehaviorContext<MigrationState> context, IBehavior<MigrationState> next) =>
        LearnThen(context, () => next.Execute(context));

    public Task Execute<T>(BehaviorContext<MigrationState, T> context, IBehavior<MigrationState, T> next)
        where T : class =>
        LearnThen(context, () => next.Execute(context));

    async Task LearnThen(BehaviorContext<MigrationState> context, Func<Task> next)
    {
        var saga = context.Saga;
        if (saga.MemoryBytes > 0)
        {
            var events = await session.Events.FetchStreamAsync(saga.CorrelationId, token: context.CancellationToken);
            var rounds = events.Select(e => e.Data).OfType<PreCopyRoundCompleted>().OrderBy(r => r.Round).ToList();
            if (DirtyBehaviour.Fit(VmHistory.Observations(rounds), saga.MemoryBytes) is { } fit)
            {
                var history = await session.LoadAsync<VmBehaviourHistory>(saga.VmId, context.CancellationToken)
                    ?? new VmBehaviourHistory { Id = saga.VmId };
                // The first round's bytes are the first pass's only when that round was reported on its own (a driver
                // that saw several passes end at once gives their bytes to the last).
                var first = rounds.Count > 0 && rounds[0].Round == 1 && rounds[0].BytesTransferred > 0 ? rounds[0].BytesTransferred : (long?)null;
                history.Add(new VmBehaviourSample(saga.CorrelationId, DateTimeOffset.UtcNow, fit, first));
                session.Store(history);
            }
        }
        await next();
    }

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, TException> context, IBehavior<MigrationState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<MigrationState, T, TException> context, IBehavior<MigrationState, T> next)
        where T : class
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("learn-behaviour");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}

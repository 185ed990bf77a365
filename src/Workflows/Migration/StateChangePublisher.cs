using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Every transition's <see cref="MigrationStateChanged"/>: recorded on the migration's stream, after the events that
/// caused it and in the same transaction (the read models take the state from it instead of working it out again), and
/// published through the saga's outbox, so other services can follow every migration as Nova's notifications let them.
/// </summary>
public sealed class StateChangePublisher : IStateObserver<MigrationState>
{
    public Task StateChanged(BehaviorContext<MigrationState> context, State currentState, State previousState)
    {
        var saga = context.Saga;
        // The saga's creation (to Initial) is not a state change anyone outside needs to hear about.
        if (currentState.Name != previousState?.Name && currentState.Name != "Initial")
        {
            var changed = new MigrationStateChanged(saga.CorrelationId, string.IsNullOrEmpty(saga.VmId) ? null : saga.VmId,
                previousState?.Name is null or "Initial" ? null : previousState.Name, currentState.Name, DateTimeOffset.UtcNow);
            if (changed.FromState is { } left && saga.StateEnteredAt is { } enteredAt)
                saga.EndPhase(left, changed.Timestamp - enteredAt);
            saga.StateEnteredAt = changed.Timestamp;
            saga.Record(changed);
            saga.Publish(changed);
        }
        return Task.CompletedTask;
    }
}

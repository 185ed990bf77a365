using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Publishes <see cref="MigrationStateChanged"/> for every transition, through the saga's outbox, so other services can
/// follow every migration as Nova's notifications let them (the integration events, not the history: that is the stream).
/// </summary>
public sealed class StateChangePublisher : IStateObserver<MigrationState>
{
    public Task StateChanged(BehaviorContext<MigrationState> context, State currentState, State previousState)
    {
        var saga = context.Saga;
        // The saga's creation (to Initial) is not a state change anyone outside needs to hear about.
        if (currentState.Name != previousState?.Name && currentState.Name != "Initial")
        {
            saga.Publish(new MigrationStateChanged(saga.CorrelationId, string.IsNullOrEmpty(saga.VmId) ? null : saga.VmId,
                previousState?.Name is null or "Initial" ? null : previousState.Name, currentState.Name, DateTimeOffset.UtcNow));
        }
        return Task.CompletedTask;
    }
}

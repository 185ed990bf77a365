using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// No silent wait: every state that waits for a worker arms a durable timer as it is entered, and says beside its
/// behaviour what its timeout does: retry an idempotent command, roll back (before the switchover) or fail with a
/// reason an operator can act on. These are the verbs it says that with.
/// </summary>
public sealed partial class MigrationStateMachine
{
    /// <summary>Each waiting state arms the step timeout as it is entered and starts counting attempts anew.</summary>
    void Arm(State state, Func<MigrationState, TimeSpan> delay) =>
        WhenEnter(state, x => x
            .Then(context =>
            {
                context.Saga.StepAttempts = 1;
                context.Saga.ArmTimer(TimerKinds.Step, delay(context.Saga));
            }));

    /// <summary>Sends an idempotent command again and waits once more.</summary>
    static EventActivityBinder<MigrationState, T> Retry<T, TCommand>(EventActivityBinder<MigrationState, T> binder, TimeSpan delay,
        Func<MigrationState, string> host, Func<MigrationState, TCommand> command)
        where T : class
        where TCommand : class =>
        binder
            .Then(context => context.Saga.StepAttempts++)
            .SendToWorker(host, command)
            .Then(context => context.Saga.ArmTimer(TimerKinds.Step, delay));

    /// <summary>
    /// A pass or a heartbeat is progress: the progress timeout starts again. The completion timeout starts with the
    /// transfer when the pre-flight check said how big the VM is (a hypervisor that hangs while its worker heart-beats is
    /// still bounded), else with the first pass, which sends all of the memory.
    /// </summary>
    static EventActivityBinder<MigrationState, PreCopyRoundCompleted> RearmProgress(EventActivityBinder<MigrationState, PreCopyRoundCompleted> binder) =>
        binder.Then(context =>
        {
            var saga = context.Saga;
            saga.ArmTimer(TimerKinds.Step, ProgressTimeout(saga));
            if (saga.CompletionTimeoutToken is not null)
                return;
            if (saga.MemoryBytes == 0)
                saga.MemoryBytes = context.Message.BytesTransferred;
            saga.ArmTimer(TimerKinds.Completion, CompletionTimeoutFor(saga));
        });

    /// <summary>A step timer that fired with the token of the timer armed last; an older one is stale.</summary>
    static bool IsCurrent(BehaviorContext<MigrationState, StepTimedOut> context) => context.Message.Token == context.Saga.StepTimeoutToken;

    static TimeSpan ProgressTimeout(MigrationState saga) =>
        TimeSpan.FromSeconds(saga.Policy.ProgressTimeoutSeconds);

    /// <summary>Per GiB of what moves: the memory and the local disks mirrored before it.</summary>
    static TimeSpan CompletionTimeoutFor(MigrationState saga) => TimeSpan.FromSeconds(
        saga.Policy.CompletionTimeoutSecondsPerGiB * Math.Max(1.0, (saga.MemoryBytes + saga.DiskBytes) / (double)(1L << 30)));
}

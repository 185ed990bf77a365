using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Workflows.Migration;

/// <summary>The verbs the migration state machine is written in. None moves the migration: <c>TransitionTo</c> is written only in the machine's body.</summary>
public static class MigrationBinderExtensions
{
    /// <summary>Records an event on the migration's stream.</summary>
    public static EventActivityBinder<MigrationState, T> Record<T, TEvent>(
        this EventActivityBinder<MigrationState, T> binder, Func<MigrationState, TEvent> factory)
        where T : class
        where TEvent : class =>
        binder.Then(context => context.Saga.Record(factory(context.Saga)));

    /// <summary>Records an event on the migration's stream and publishes the same instance to other services.</summary>
    public static EventActivityBinder<MigrationState, T> RecordAndPublish<T, TEvent>(
        this EventActivityBinder<MigrationState, T> binder, Func<MigrationState, TEvent> factory)
        where T : class
        where TEvent : class =>
        binder.Then(context =>
        {
            var @event = factory(context.Saga);
            context.Saga.Record(@event);
            context.Saga.Publish(@event);
        });

    /// <summary>Refuses an operator command in this state: the refusal is recorded and published, with its reason.</summary>
    public static EventActivityBinder<MigrationState, T> RefuseWith<T>(this EventActivityBinder<MigrationState, T> binder,
        Func<MigrationState, CommandRefused> refusal)
        where T : class =>
        binder.RecordAndPublish(refusal);

    /// <summary>Records on the migration's stream that one of its messages was set aside as a dead letter.</summary>
    public static EventActivityBinder<MigrationState, MessageGivenUp> RecordSetAside(this EventActivityBinder<MigrationState, MessageGivenUp> binder) =>
        binder.Then(context => context.Saga.Record(context.Saga.SetAside(context.Message)));

    /// <summary>Records the worker report that caused the transition on the migration's stream.</summary>
    public static EventActivityBinder<MigrationState, T> RecordReport<T>(this EventActivityBinder<MigrationState, T> binder)
        where T : class =>
        binder.Then(context => context.Saga.Record(context.Message));

    /// <summary>Records the stop-and-copy report; its downtime is the migration's.</summary>
    /// <summary>Records the switchover report: the VM runs where it says; the stop-and-copy report is owed if it has not come.</summary>
    public static EventActivityBinder<MigrationState, SwitchoverCompleted> RecordSwitchover(
        this EventActivityBinder<MigrationState, SwitchoverCompleted> binder) =>
        binder.RecordReport().Then(context =>
        {
            context.Saga.RunningOn = context.Message.RunningOn;
            context.Saga.AwaitsStopAndCopy = !context.Saga.StoppedAndCopied;
        });

    public static EventActivityBinder<MigrationState, StopAndCopyCompleted> RecordStopAndCopy(
        this EventActivityBinder<MigrationState, StopAndCopyCompleted> binder) =>
        binder.RecordReport().Then(context =>
        {
            context.Saga.DowntimeMs = context.Message.DowntimeMs;
            context.Saga.StoppedAndCopied = true;
            context.Saga.AwaitsStopAndCopy = false;
        });

    /// <summary>
    /// Sends a command (made by <see cref="WorkerCommands"/>) to the queue of the worker that serves the migration's
    /// hypervisor on <paramref name="host"/>.
    /// </summary>
    public static EventActivityBinder<MigrationState, T> SendToWorker<T, TCommand>(
        this EventActivityBinder<MigrationState, T> binder, Func<MigrationState, string> host, Func<MigrationState, TCommand> command)
        where T : class
        where TCommand : class =>
        binder.Then(context => context.Saga.SendTo(QueueNames.Worker(context.Saga.Hypervisor, host(context.Saga)), command(context.Saga)));
}

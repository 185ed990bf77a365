using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Poison isolation: when a message of the migration is set aside as a dead letter (<see cref="MessageGivenUp"/>), the
/// migration records it (<see cref="MessageSetAside"/>) and, when it was waiting on that message, ends with the reason
/// instead of a timeout. A command the workflow could not deliver is judged by what it did: nothing was done on its host.
/// A report it could not apply leaves the workflow not knowing what the worker said: the migration fails for an operator.
/// An operator's command it could not apply is refused; the migration goes on.
/// </summary>
public sealed partial class MigrationStateMachine
{
    void ConfigureDeadLetters()
    {
        During([Queued, Checking, Preparing, PreCopying, SwitchingOver, PostCopying, CleaningUp, RollingBack, DestroyingTarget, Reconciling, .. Terminal],
            When(GivenUp, context => IsCommand(context.Message))
                .RecordSetAside()
                .Then(context =>
                {
                    var refusal = context.Saga.CommandSetAside(CommandName(context.Message.MessageType),
                        $"The command could not be applied and was set aside as dead letter {context.Message.MessageId} ({context.Message.Reason}); "
                        + "the migration goes on as it was.");
                    context.Saga.Record(refusal);
                    context.Saga.Publish(refusal);
                }));
        During(Terminal,
            When(GivenUp, context => !IsCommand(context.Message)).RecordSetAside());

        During(Queued,
            RejectAfterAdmission(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(),
                context => $"{Unapplied(context)} Nothing was done to any host.", RejectionCodes.InvalidCommand),
            When(GivenUp, context => IsUndelivered(context.Message)).RecordSetAside());

        During(Checking,
            RejectAfterAdmission(When(GivenUp, context => IsUndelivered(context.Message, nameof(CheckMigration))).RecordSetAside(),
                context => $"The pre-flight check could not be delivered to the source host {context.Saga.SourceHost} ({context.Message.Reason}). "
                    + $"Nothing was done; the VM runs on {context.Saga.SourceHost}."),
            RejectAfterAdmission(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(),
                context => $"{Unapplied(context)} Nothing was done to any host."),
            When(GivenUp, context => IsUndelivered(context.Message) && context.Message.MessageType != nameof(CheckMigration)).RecordSetAside());

        During(Preparing,
            RollBack(When(GivenUp, context => IsUndelivered(context.Message, nameof(PrepareTarget))).RecordSetAside(),
                context => $"The command to prepare the destination could not be delivered to the target host {context.Saga.TargetHost} "
                    + $"({context.Message.Reason}). Nothing was prepared there; the VM runs on its source {context.Saga.SourceHost}."),
            FailWith(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(), Unapplied),
            When(GivenUp, context => IsUndelivered(context.Message) && context.Message.MessageType != nameof(PrepareTarget)).RecordSetAside());

        During(PreCopying,
            RollBack(When(GivenUp, context => IsUndelivered(context.Message, nameof(BeginTransfer))).RecordSetAside(),
                context => $"The command to begin the transfer could not be delivered to the source host {context.Saga.SourceHost} "
                    + $"({context.Message.Reason}). The transfer never started; the VM runs on {context.Saga.SourceHost}."),
            FailWith(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(), Unapplied),
            // A policy command (adjust, switch to post-copy) that did not arrive leaves the transfer running as it was.
            When(GivenUp, context => IsUndelivered(context.Message) && context.Message.MessageType != nameof(BeginTransfer)).RecordSetAside());

        During(SwitchingOver, PostCopying,
            FailWith(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(), Unapplied),
            When(GivenUp, context => IsUndelivered(context.Message)).RecordSetAside());

        During(CleaningUp,
            FailWith(When(GivenUp, context => IsUndelivered(context.Message, nameof(CleanupSource))).RecordSetAside(),
                context => $"The VM runs on {context.Saga.TargetHost}, but the command to clean up the source could not be delivered to "
                    + $"{context.Saga.SourceHost} ({context.Message.Reason}): check it for leftovers."),
            FailWith(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(), Unapplied),
            When(GivenUp, context => IsUndelivered(context.Message) && context.Message.MessageType != nameof(CleanupSource)).RecordSetAside());

        During(RollingBack,
            FailWith(When(GivenUp, context => IsUndelivered(context.Message, nameof(AbortTransfer))).RecordSetAside(),
                context => $"Rollback not confirmed: the command to stop the transfer could not be delivered to the source host "
                    + $"{context.Saga.SourceHost} ({context.Message.Reason}) after: {context.Saga.Reason} The VM's state is unknown: recover it."),
            FailWith(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(), Unapplied),
            When(GivenUp, context => IsUndelivered(context.Message) && context.Message.MessageType != nameof(AbortTransfer)).RecordSetAside());

        // The source confirmed the abort, so the VM runs there: the migration is undone, only the target's cleanup is unknown.
        During(DestroyingTarget,
            EndRollback(When(GivenUp, context => IsUndelivered(context.Message, nameof(DestroyTarget)))
                .RecordSetAside()
                .Then(context => context.Saga.Reason += $" The command to remove the destination could not be delivered to the target host "
                    + $"{context.Saga.TargetHost} ({context.Message.Reason}): check it for a leftover. The VM runs on its source {context.Saga.SourceHost}.")),
            FailWith(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(), Unapplied),
            When(GivenUp, context => IsUndelivered(context.Message) && context.Message.MessageType != nameof(DestroyTarget)).RecordSetAside());

        // A host that cannot be asked is unknown, as one that does not answer in time; the decision is made with what is known.
        During(Reconciling,
            Decide(When(GivenUp, context => IsUndelivered(context.Message, nameof(LocateVm)))
                    .RecordSetAside()
                    .Then(context => context.Saga.NoteUnreachable(context.Saga.HostOf(context.Message.Queue), context.Message.Reason)),
                context => context.Saga.HasBothAnswers()),
            FailWith(When(GivenUp, context => IsReport(context.Message)).RecordSetAside(), Unapplied),
            When(GivenUp, context => IsUndelivered(context.Message) && context.Message.MessageType != nameof(LocateVm)).RecordSetAside());

        // A StartMigration that could not be stored: the migration it named is rejected, without the values that broke it.
        Initially(
            When(StartSetAside)
                .Then(context =>
                {
                    context.Saga.Record(context.Saga.StartSetAside(context.Message));
                    context.Saga.RejectionCode = RejectionCodes.InvalidCommand;
                    context.Saga.Reason = $"The StartMigration could not be stored and was set aside as dead letter {context.Message.MessageId} "
                        + $"({context.Message.Reason}). Nothing was done; correct the command and send it with a new MigrationId.";
                })
                // A slot an earlier attempt of the start took (AdmissionBook.AdmitAlone) goes back.
                .Activity(x => x.OfInstanceType<ReleaseActivity>())
                .RecordAndPublish(saga => saga.Rejection())
                .TransitionTo(Rejected));
        // A duplicate of a start already applied: on record, nothing else.
        DuringAny(
            When(StartSetAside).Then(context => context.Saga.Record(context.Saga.StartSetAside(context.Message))));
    }

    /// <summary>An operator's command (not a worker's report or a timer) that could not be applied.</summary>
    static bool IsCommand(MessageGivenUp message) => message.Source == DeadLetterSources.Input
        && message.MessageType is nameof(CancelMigration) or nameof(ForceCompleteMigration) or nameof(RecoverMigration);

    /// <summary>A worker's report or a timer that could not be applied: the workflow does not know what it said.</summary>
    static bool IsReport(MessageGivenUp message) => message.Source == DeadLetterSources.Input && !IsCommand(message);

    static bool IsUndelivered(MessageGivenUp message, string? type = null) =>
        message.Source == DeadLetterSources.Outbox && (type is null || message.MessageType == type);

    static string CommandName(string messageType) => messageType switch
    {
        nameof(CancelMigration) => "cancel",
        nameof(ForceCompleteMigration) => "force-complete",
        _ => "recover",
    };

    static string Unapplied(BehaviorContext<MigrationState, MessageGivenUp> context) =>
        $"A {context.Message.MessageType} for this migration could not be applied and was set aside as dead letter {context.Message.MessageId} "
        + $"({context.Message.Reason}): the workflow may have missed what a worker reported. The VM was last known on "
        + $"{context.Saga.RunningOn ?? context.Saga.SourceHost}; recover it to find out where it runs.";
}

using JasperFx.Events;
using Marten.Events.Aggregation;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Attention;

/// <summary>
/// Single-stream projection, asynchronous (the operators' worklist; minutes matter, not milliseconds). Keeps one
/// document per migration that is running or failed, with its last event's time, and deletes it when the migration
/// ends well. Stuck migrations are found at query time by comparing that time with the clock (see <see cref="AttentionQueries"/>).
/// The state is the one the saga recorded (<see cref="MigrationStateChanged"/>), as the summary takes it.
/// </summary>
public sealed partial class AttentionProjection : SingleStreamProjection<MigrationAttention, Guid>
{
    public AttentionProjection()
    {
        IncludeType<MigrationRequested>();
        IncludeType<MigrationQueued>();
        IncludeType<MigrationAdmitted>();
        IncludeType<PreflightPassed>();
        IncludeType<PreflightFailed>();
        IncludeType<TargetPrepared>();
        IncludeType<PreCopyRoundCompleted>();
        IncludeType<MigrationPolicyAdjusted>();
        IncludeType<StopAndCopyCompleted>();
        IncludeType<SwitchoverCompleted>();
        IncludeType<PostCopyStarted>();
        IncludeType<PostCopyCompleted>();
        IncludeType<SourceCleanedUp>();
        IncludeType<MigrationStepFailed>();
        IncludeType<MigrationRollingBack>();
        IncludeType<MigrationAborted>();
        IncludeType<TargetDestroyed>();
        IncludeType<CommandRefused>();
        IncludeType<MigrationCompleted>();
        IncludeType<MigrationRolledBack>();
        IncludeType<MigrationCancelled>();
        IncludeType<MigrationRejected>();
        IncludeType<MigrationFailed>();
        IncludeType<MigrationRecoveryStarted>();
        IncludeType<VmLocated>();
        IncludeType<MigrationReconciled>();
        IncludeType<MigrationStateChanged>();
        IncludeType<MessageSetAside>();
    }

    public override MigrationAttention? Evolve(MigrationAttention? snapshot, Guid id, IEvent e)
    {
        if (e.Data is MigrationCompleted or MigrationRolledBack or MigrationCancelled or MigrationRejected)
        {
            // Ended well; kept only to show a message that was set aside.
            if (snapshot?.DeadLetterId is null)
                return null;
            snapshot.Ended = true;
        }
        // A start that could not be stored has no MigrationRequested: its dead letter opens the document.
        if (snapshot is null && e.Data is not (MigrationRequested or MessageSetAside))
            return null;

        var item = snapshot ?? new MigrationAttention { Id = id };
        switch (e.Data)
        {
            // Ends kept for a dead letter: the reason the migration ended with.
            case MigrationRolledBack rolledBack:
                item.Reason = rolledBack.Reason;
                break;
            case MigrationCancelled cancelled:
                item.Reason = cancelled.Reason;
                break;
            case MigrationRejected rejected:
                item.Reason = rejected.Reason;
                break;
            case MessageSetAside setAside:
                item.DeadLetterId = setAside.MessageId;
                item.DeadLetterAt = setAside.Timestamp;
                item.DeadLetterReason = $"{setAside.MessageType}{(setAside.Host is null ? string.Empty : $" for {setAside.Host}")} was set aside as "
                    + $"dead letter {setAside.MessageId} ({setAside.Source}): {setAside.Reason}";
                break;
            // The last event of a transition; the one before it, its cause, stays the last event an operator is shown.
            case MigrationStateChanged changed:
                item.State = changed.ToState;
                return item;
            case MigrationRequested requested:
                item.VmId = requested.VmId;
                item.Hypervisor = requested.Hypervisor;
                item.SourceHost = requested.SourceHost;
                item.TargetHost = requested.TargetHost;
                item.VmRunningOn = requested.SourceHost;
                item.State = MigrationStates.Requested;
                break;
            case SwitchoverCompleted switchover:
                item.VmRunningOn = switchover.RunningOn;
                break;
            case PostCopyStarted postCopy:
                item.VmRunningOn = postCopy.RunningOn;
                break;
            case PostCopyCompleted postCopy:
                item.VmRunningOn = postCopy.RunningOn;
                break;
            case MigrationRollingBack rollingBack:
                item.Reason = rollingBack.Reason;
                break;
            // A recovery takes the migration up again: it is no longer failed, it is being reconciled.
            case MigrationRecoveryStarted:
                item.Kind = null;
                item.FailedIn = null;
                break;
            case MigrationReconciled { Verdict: RecoveryVerdicts.Finish }:
                item.VmRunningOn = item.TargetHost;
                break;
            // Recorded before the state change it causes: the state is still the one the migration failed in.
            case MigrationFailed failed:
                item.FailedIn = item.State;
                item.Kind = failed.VmRunningOn is null ? AttentionKinds.VmLost
                    : item.State is MigrationStates.RollingBack or MigrationStates.DestroyingTarget ? AttentionKinds.RollbackFailed
                    : AttentionKinds.Failed;
                item.Reason = failed.Reason;
                item.VmRunningOn = failed.VmRunningOn;
                break;
        }
        item.LastEventAt = EventTimes.Of(e);
        item.LastEventType = e.EventTypeName;
        return item;
    }
}

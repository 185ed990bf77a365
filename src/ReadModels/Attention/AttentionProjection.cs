using JasperFx.Events;
using Marten.Events.Aggregation;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Attention;

/// <summary>
/// Single-stream projection, asynchronous (the operators' worklist; minutes matter, not milliseconds). Keeps one
/// document per migration that is running or failed, with its last event's time, and deletes it when the migration
/// ends well. Stuck migrations are found at query time by comparing that time with the clock (see <see cref="AttentionQueries"/>).
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
    }

    public override MigrationAttention? Evolve(MigrationAttention? snapshot, Guid id, IEvent e)
    {
        if (e.Data is MigrationCompleted or MigrationRolledBack or MigrationCancelled or MigrationRejected)
            return null;
        if (snapshot is null && e.Data is not MigrationRequested)
            return null;

        var item = snapshot ?? new MigrationAttention { Id = id };
        switch (e.Data)
        {
            case MigrationRequested requested:
                item.VmId = requested.VmId;
                item.Hypervisor = requested.Hypervisor;
                item.SourceHost = requested.SourceHost;
                item.TargetHost = requested.TargetHost;
                item.VmRunningOn = requested.SourceHost;
                item.State = MigrationStates.Requested;
                break;
            case MigrationQueued:
                item.State = MigrationStates.Queued;
                break;
            case MigrationAdmitted:
                item.State = MigrationStates.Checking;
                break;
            case PreflightPassed:
                item.State = MigrationStates.Preparing;
                break;
            case TargetPrepared:
                item.State = MigrationStates.PreCopying;
                break;
            case StopAndCopyCompleted when item.State == MigrationStates.PreCopying:
                item.State = MigrationStates.SwitchingOver;
                break;
            case SwitchoverCompleted switchover:
                item.VmRunningOn = switchover.RunningOn;
                item.State = MigrationStates.CleaningUp;
                break;
            case PostCopyStarted postCopy:
                item.VmRunningOn = postCopy.RunningOn;
                item.State = MigrationStates.PostCopying;
                break;
            case PostCopyCompleted postCopy:
                item.VmRunningOn = postCopy.RunningOn;
                item.State = MigrationStates.CleaningUp;
                break;
            case MigrationRollingBack rollingBack:
                item.Reason = rollingBack.Reason;
                item.State = MigrationStates.RollingBack;
                break;
            case MigrationAborted:
                item.State = MigrationStates.DestroyingTarget;
                break;
            // A recovery takes the migration up again: it is no longer failed, it is being reconciled.
            case MigrationRecoveryStarted:
                item.Kind = null;
                item.FailedIn = null;
                item.State = MigrationStates.Reconciling;
                break;
            case MigrationReconciled { Verdict: RecoveryVerdicts.Finish }:
                item.VmRunningOn = item.TargetHost;
                item.State = MigrationStates.CleaningUp;
                break;
            case MigrationFailed failed:
                item.FailedIn = item.State;
                item.Kind = failed.VmRunningOn is null ? AttentionKinds.VmLost
                    : item.State is MigrationStates.RollingBack or MigrationStates.DestroyingTarget ? AttentionKinds.RollbackFailed
                    : AttentionKinds.Failed;
                item.Reason = failed.Reason;
                item.VmRunningOn = failed.VmRunningOn;
                item.State = MigrationStates.Failed;
                break;
        }
        item.LastEventAt = EventTimes.Of(e);
        item.LastEventType = e.EventTypeName;
        return item;
    }
}

using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Migration;

/// <summary>What a recovery does to the migration's state: the truth query, its answers and the verdict they imply.</summary>
public static class MigrationRecovery
{
    public static MigrationRecoveryStarted BeginRecovery(this MigrationState saga, string? requestedBy)
    {
        var answers = saga.Probing;
        saga.Probing = false;
        saga.RecoveringFrom = saga.CurrentState;
        saga.RecoveryRequestedBy = requestedBy;
        saga.Verdict = null;
        // A recovery that follows a start-up check keeps the answers that contradicted the state.
        if (!answers)
        {
            saga.SourcePresence = saga.TargetPresence = null;
            saga.SourceEvidence = saga.TargetEvidence = null;
        }
        // Fencing: commands of the incarnation being recovered are refused by the workers from now on.
        saga.Epoch++;
        return new MigrationRecoveryStarted(saga.CorrelationId, saga.CurrentState, saga.Epoch, requestedBy, DateTimeOffset.UtcNow);
    }

    /// <summary>The start-up check begins: the hosts are asked, the state stays.</summary>
    public static void BeginProbe(this MigrationState saga, string reason)
    {
        saga.Probing = true;
        saga.RecoveryRequestedBy = $"orchestrator ({reason})";
        saga.SourcePresence = saga.TargetPresence = null;
        saga.SourceEvidence = saga.TargetEvidence = null;
    }

    /// <summary>
    /// Whether the hosts' answers fit the state: before ownership moves the source holds the VM (running, or paused for
    /// the stop-and-copy); after it the target runs it; mid-switchover either. An unknown answer is not a contradiction.
    /// </summary>
    public static bool AgreesWithHosts(this MigrationState saga)
    {
        var source = saga.SourcePresence;
        var target = saga.TargetPresence;
        if (source == VmPresences.Unknown || target == VmPresences.Unknown)
            return true;
        var sourceHolds = source is VmPresences.Running or VmPresences.Paused && target != VmPresences.Running;
        var targetRuns = target == VmPresences.Running && source != VmPresences.Running;
        return saga.CurrentState switch
        {
            nameof(MigrationStateMachine.SwitchingOver) => sourceHolds || targetRuns,
            nameof(MigrationStateMachine.PostCopying) or nameof(MigrationStateMachine.CleaningUp) => targetRuns,
            _ => sourceHolds,
        };
    }

    /// <summary>The hosts agree with the state: the migration goes on, and the check is on record.</summary>
    public static MigrationReconciled Confirm(this MigrationState saga)
    {
        saga.Probing = false;
        return new MigrationReconciled(saga.CorrelationId, saga.CurrentState, saga.SourcePresence!, saga.TargetPresence!, RecoveryVerdicts.Continue,
            $"{saga.Answers()}. The hosts agree with {saga.CurrentState}: the migration goes on.",
            saga.RecoveryRequestedBy, DateTimeOffset.UtcNow);
    }

    /// <summary>An answer to this epoch's question (an answer that carries no epoch is taken as current).</summary>
    public static bool IsCurrent(this MigrationState saga, VmLocated answer) => answer.Epoch is null || answer.Epoch == saga.Epoch;

    /// <summary>What each host answered, in its own words: the evidence every verdict quotes.</summary>
    static string Answers(this MigrationState saga) =>
        $"{saga.SourceHost} (source): {saga.SourcePresence ?? VmPresences.Unknown}, {saga.SourceEvidence}; "
        + $"{saga.TargetHost} (target): {saga.TargetPresence ?? VmPresences.Unknown}, {saga.TargetEvidence}";

    /// <summary>Notes one host's answer.</summary>
    public static void Note(this MigrationState saga, VmLocated answer)
    {
        if (answer.Host == saga.SourceHost)
        {
            saga.SourcePresence = answer.Presence;
            saga.SourceEvidence = answer.Detail;
        }
        else if (answer.Host == saga.TargetHost)
        {
            saga.TargetPresence = answer.Presence;
            saga.TargetEvidence = answer.Detail;
        }
    }

    /// <summary>The question could not even be delivered to <paramref name="host"/>: it is unknown, with why.</summary>
    public static void NoteUnreachable(this MigrationState saga, string? host, string reason)
    {
        var evidence = $"the question could not be delivered to the worker of {host} ({reason})";
        if (host == saga.SourceHost)
            (saga.SourcePresence, saga.SourceEvidence) = (VmPresences.Unknown, evidence);
        else if (host == saga.TargetHost)
            (saga.TargetPresence, saga.TargetEvidence) = (VmPresences.Unknown, evidence);
    }

    public static bool HasBothAnswers(this MigrationState saga) => saga.SourcePresence is not null && saga.TargetPresence is not null;

    public static void GiveUpWaitingForAnswers(this MigrationState saga)
    {
        saga.SourcePresence ??= VmPresences.Unknown;
        saga.SourceEvidence ??= $"the worker of {saga.SourceHost} did not answer";
        saga.TargetPresence ??= VmPresences.Unknown;
        saga.TargetEvidence ??= $"the worker of {saga.TargetHost} did not answer";
    }

    /// <summary>Judges the hosts' answers (<see cref="Judge"/>) and sets what follows from the verdict.</summary>
    public static MigrationReconciled Reconcile(this MigrationState saga)
    {
        var source = saga.SourcePresence ?? VmPresences.Unknown;
        var target = saga.TargetPresence ?? VmPresences.Unknown;
        var (verdict, why) = Judge(source, target, ownershipMoved: saga.RunningOn == saga.TargetHost, saga.SourceHost, saga.TargetHost);
        var evidence = $"{saga.Answers()}. {why}";
        saga.Verdict = verdict;
        switch (verdict)
        {
            case RecoveryVerdicts.Finish:
                saga.RunningOn = saga.TargetHost;
                saga.CancelRequested = false;
                break;
            case RecoveryVerdicts.RollBack:
                saga.RunningOn = saga.SourceHost;
                saga.Reason = $"Recovered from {saga.RecoveringFrom}: {evidence}";
                break;
            case RecoveryVerdicts.Lost:
                saga.RunningOn = null;
                saga.Reason = $"VM lost (recovered from {saga.RecoveringFrom}): {evidence}";
                break;
            default:
                saga.Reason = $"Recovery from {saga.RecoveringFrom} could not decide: {evidence}";
                break;
        }

        return new MigrationReconciled(saga.CorrelationId, saga.RecoveringFrom ?? saga.CurrentState, source, target, verdict, evidence,
            saga.RecoveryRequestedBy, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// The rule, from what the hosts say and whether the workflow recorded the VM's ownership moving to the target
    /// (switchover or post-copy start). Never two running copies: when both run, the recorded owner is kept.
    /// </summary>
    public static (string Verdict, string Why) Judge(string source, string target, bool ownershipMoved, string sourceHost, string targetHost)
    {
        var sourceRuns = source == VmPresences.Running;
        var targetRuns = target == VmPresences.Running;
        if (sourceRuns && targetRuns)
            return ownershipMoved
                ? (RecoveryVerdicts.Finish, $"Both hosts run the VM; ownership had moved to {targetHost}, so its copy is kept and {sourceHost}'s is cleaned up.")
                : (RecoveryVerdicts.RollBack, $"Both hosts run the VM; ownership never moved, so {sourceHost}'s copy is kept and {targetHost}'s is removed.");
        if (targetRuns)
            return (RecoveryVerdicts.Finish, $"The VM runs on {targetHost}: the migration is finished by cleaning up {sourceHost}.");
        if (sourceRuns)
            return (RecoveryVerdicts.RollBack, $"The VM runs on {sourceHost}: the migration is rolled back and {targetHost}'s destination removed.");
        if (source == VmPresences.Unknown || target == VmPresences.Unknown)
            return (RecoveryVerdicts.Unknown, "No host that answered runs the VM and a host did not answer: nothing was changed. Recover again once it answers.");
        // Paused on the source before ownership moved: the source still holds the whole VM; aborting the transfer resumes it.
        if (source == VmPresences.Paused && !ownershipMoved)
            return (RecoveryVerdicts.RollBack, $"The VM is paused on {sourceHost} and ownership never moved: aborting the transfer resumes it there.");
        return (RecoveryVerdicts.Lost, ownershipMoved
            ? $"Ownership had moved to {targetHost} (post-copy or switchover) but no host runs the VM: neither holds all of its memory. Restore it from backup."
            : "No host runs or holds the VM. Restore it from backup.");
    }

    public static CommandRefused RecoverRefusal(this MigrationState saga) => new(
        saga.CorrelationId, "recover",
        saga.CurrentState switch
        {
            nameof(MigrationStateMachine.Queued) or nameof(MigrationStateMachine.Checking) =>
                $"Migration is {saga.CurrentState}: no host has been touched yet, there is nothing to recover. Cancel it instead.",
            nameof(MigrationStateMachine.Reconciling) => "A recovery is under way: wait for its verdict.",
            _ => $"Migration ended {saga.CurrentState}: there is nothing to recover.",
        },
        DateTimeOffset.UtcNow);
}

using JasperFx.Events;
using Marten.Events.Aggregation;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.ReadModels.Migrations;

/// <summary>
/// Inline projection (read-your-writes): the summary is updated in the transaction that appends the events.
/// Pure: everything comes from the events, time included. The state is the one the saga recorded
/// (<see cref="MigrationStateChanged"/>, the last event of each transition), never worked out here a second time; the
/// other events fill in the figures, hosts and reasons.
/// </summary>
public sealed partial class MigrationSummaryProjection : SingleStreamProjection<MigrationSummary, Guid>
{
    public MigrationSummary Create(IEvent<MigrationRequested> @event) => new()
    {
        Id = @event.Data.MigrationId,
        VmId = @event.Data.VmId,
        Hypervisor = @event.Data.Hypervisor,
        SourceHost = @event.Data.SourceHost,
        TargetHost = @event.Data.TargetHost,
        Strategy = @event.Data.Strategy,
        Policy = @event.Data.Policy,
        PolicyName = @event.Data.PolicyName,
        Deadline = @event.Data.Deadline,
        RequestedBy = @event.Data.RequestedBy,
        RequestedAt = @event.Data.Timestamp,
        UpdatedAt = @event.Data.Timestamp,
        RunningOn = @event.Data.SourceHost,
        LastEventVersion = Math.Max(1, @event.Version),
    };

    public MigrationSummary Create(IEvent<MigrationRejected> @event) => new()
    {
        Id = @event.Data.MigrationId,
        VmId = @event.Data.VmId,
        Reason = @event.Data.Reason,
        RejectionCode = @event.Data.ReasonCode,
        RequestedAt = @event.Data.Timestamp,
        UpdatedAt = @event.Data.Timestamp,
        EndedAt = @event.Data.Timestamp,
        LastEventVersion = Math.Max(1, @event.Version),
    };

    /// <summary>The state the saga entered: the one source of the summary's <see cref="MigrationSummary.State"/>.</summary>
    public void Apply(IEvent<MigrationStateChanged> @event, MigrationSummary summary)
    {
        summary.State = @event.Data.ToState;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationQueued> @event, MigrationSummary summary)
    {
        summary.QueuePosition = @event.Data.Position;
        summary.QueueReason = @event.Data.Reason;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationAdmitted> @event, MigrationSummary summary)
    {
        summary.QueuePosition = null;
        summary.AdmittedAt ??= @event.Data.Timestamp;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<PreflightPassed> @event, MigrationSummary summary)
    {
        summary.PredictedDowntimeMs = @event.Data.PredictedDowntimeMs;
        summary.MemoryBytes = @event.Data.MemoryBytes;
        summary.DiskBytes = @event.Data.DiskBytes > 0 ? @event.Data.DiskBytes : null;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<DiskMirrorStarted> @event, MigrationSummary summary)
    {
        summary.DiskBytes = @event.Data.TotalBytes;
        summary.DiskBytesMirrored = 0;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<DiskMirrorProgress> @event, MigrationSummary summary)
    {
        summary.DiskBytesMirrored = @event.Data.BytesDone;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<DiskMirrorReady> @event, MigrationSummary summary)
    {
        summary.DiskBytesMirrored = @event.Data.TotalBytes;
        summary.DiskMirrorReadyMs = @event.Data.ElapsedMs;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationPredicted> @event, MigrationSummary summary)
    {
        summary.ForecastOutcome = @event.Data.Outcome;
        summary.ForecastRounds = @event.Data.Rounds;
        summary.ForecastTotalSeconds = @event.Data.TotalSeconds;
        summary.ForecastDowntimeMs = @event.Data.DowntimeMs;
        summary.ForecastFromMigrations = @event.Data.EarlierMigrations;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    /// <summary>The first forecast stays as it was (what accuracy is measured against); the refreshed one beside it.</summary>
    public void Apply(IEvent<MigrationForecastRefreshed> @event, MigrationSummary summary)
    {
        summary.RefreshedAfterRound = @event.Data.AfterRound;
        summary.RefreshedOutcome = @event.Data.Outcome;
        summary.RefreshedRemainingSeconds = @event.Data.RemainingSeconds;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<PreflightFailed> @event, MigrationSummary summary)
    {
        summary.PredictedDowntimeMs = @event.Data.PredictedDowntimeMs;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    /// <summary>Rejected after admission: the pre-flight check said no.</summary>
    public void Apply(IEvent<MigrationRejected> @event, MigrationSummary summary)
    {
        summary.Reason = @event.Data.Reason;
        summary.RejectionCode = @event.Data.ReasonCode;
        summary.End(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<TargetPrepared> @event, MigrationSummary summary) =>
        summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<PreCopyRoundCompleted> @event, MigrationSummary summary)
    {
        var round = @event.Data;
        summary.ThrottlePercent = round.ThrottlePercent;
        summary.Rounds = Math.Max(summary.Rounds, round.Round);
        summary.BytesTransferred += round.BytesTransferred;
        summary.BytesRemaining = round.BytesRemaining;
        summary.DirtyRateBytesPerSecond = round.DirtyRateBytesPerSecond;
        summary.BandwidthBytesPerSecond = round.BandwidthBytesPerSecond;
        summary.ExpectedDowntimeMs = round.ExpectedDowntimeMs;
        summary.Touch(@event, round.Timestamp);
    }

    public void Apply(IEvent<StopAndCopyCompleted> @event, MigrationSummary summary)
    {
        summary.DowntimeMs = @event.Data.DowntimeMs;
        summary.BytesTransferred += @event.Data.BytesTransferred;
        summary.BytesRemaining = 0;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<SwitchoverCompleted> @event, MigrationSummary summary)
    {
        summary.RunningOn = @event.Data.RunningOn;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationPolicyAdjusted> @event, MigrationSummary summary)
    {
        summary.PolicyAdjustments++;
        summary.DowntimeLimitMs = @event.Data.DowntimeLimitMs;
        summary.ThrottlePercent = @event.Data.ThrottlePercent;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<PostCopyStarted> @event, MigrationSummary summary)
    {
        summary.RunningOn = @event.Data.RunningOn;
        summary.BytesRemaining = @event.Data.BytesRemaining;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    /// <summary>A post-copy link that broke and was resumed: history; every event passes through <c>Touch</c> so the version counts it.</summary>
    public void Apply(IEvent<PostCopyRecovered> @event, MigrationSummary summary) => summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<PostCopyCompleted> @event, MigrationSummary summary)
    {
        summary.BytesTransferred = @event.Data.BytesTransferred;
        summary.BytesRemaining = 0;
        summary.PostCopyPageFaults = @event.Data.PageFaults;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<SourceCleanedUp> @event, MigrationSummary summary) => summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<MigrationCompleted> @event, MigrationSummary summary)
    {
        summary.RunningOn = @event.Data.RunningOn;
        summary.DowntimeMs = @event.Data.DowntimeMs;
        summary.DurationMs = @event.Data.DurationMs;
        summary.End(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationStepFailed> @event, MigrationSummary summary) => summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<MigrationRollingBack> @event, MigrationSummary summary)
    {
        summary.Reason = @event.Data.Reason;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationAborted> @event, MigrationSummary summary) =>
        summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<TargetDestroyed> @event, MigrationSummary summary) => summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<MigrationRolledBack> @event, MigrationSummary summary)
    {
        summary.Reason = @event.Data.Reason;
        summary.RunningOn = @event.Data.RunningOn;
        summary.End(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationCancelled> @event, MigrationSummary summary)
    {
        summary.Reason = @event.Data.Reason;
        summary.RunningOn = @event.Data.RunningOn;
        summary.End(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<MigrationFailed> @event, MigrationSummary summary)
    {
        summary.Reason = @event.Data.Reason;
        summary.RunningOn = @event.Data.VmRunningOn;
        summary.End(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<CommandRefused> @event, MigrationSummary summary) => summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<MigrationRecoveryStarted> @event, MigrationSummary summary)
    {
        summary.Recoveries++;
        summary.EndedAt = null;
        summary.Touch(@event, @event.Data.Timestamp);
    }

    public void Apply(IEvent<VmLocated> @event, MigrationSummary summary) => summary.Touch(@event, @event.Data.Timestamp);

    public void Apply(IEvent<MigrationReconciled> @event, MigrationSummary summary)
    {
        summary.RecoveryVerdict = @event.Data.Verdict;
        summary.RecoveryEvidence = @event.Data.Evidence;
        if (@event.Data.Verdict == RecoveryVerdicts.Finish)
            summary.RunningOn = summary.TargetHost;
        summary.Touch(@event, @event.Data.Timestamp);
    }
}
